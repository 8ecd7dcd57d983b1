// The web chat: sends what the customer types or taps to the bot and draws the answers the
// way Messenger does (bubbles, quick-reply chips, link buttons, order cards, typing dots).
// Every text goes in with textContent, never as HTML; only http(s) links become links.
// A person's replies from the desk have no request to ride on: the page asks for them every
// few seconds (config.agentMessages) and draws them as the team's bubbles.
// The conversation is the server's to name: the page never sends an id. The browser keeps
// the chat's session in an HttpOnly cookie the script cannot read; on start the page asks
// which conversation that is (config.session) and drops a stored history that belongs to
// another one. "New chat" asks the server for a new session.
(function () {
  "use strict";

  const config = JSON.parse(document.getElementById("nightdesk-config").textContent);
  const KEY = "nightdesk.webchat.";
  const MAX_QUICK_REPLIES = 13;
  const QUICK_REPLY_TITLE_CHARS = 20;
  const URL_PATTERN = /https?:\/\/[^\s<>"]+/g;
  const AGENT_POLL_MS = 4000;

  const $ = (role) => document.querySelector(`[data-role="${role}"]`);
  const $$ = (role) => Array.from(document.querySelectorAll(`[data-role="${role}"]`));
  const messages = $("messages");
  const welcome = $("welcome");
  const quickReplies = $("quick-replies");
  const input = $("input");
  const firstNameInput = $("first-name");
  const menu = $("menu");

  // ------------------------------------------------------------------ storage

  function load(name, fallback) {
    try {
      const value = localStorage.getItem(KEY + name);
      return value === null ? fallback : JSON.parse(value);
    } catch (error) {
      return fallback;
    }
  }

  function save(name, value) {
    try {
      localStorage.setItem(KEY + name, JSON.stringify(value));
    } catch (error) {
      // private mode or full storage: the chat works, it just is not kept
    }
  }

  try {
    localStorage.removeItem(KEY + "sender");  // the id the page used to make up
  } catch (error) {
    // no storage: nothing to forget
  }
  let conversation = load("conversation", null);  // what the server said it is
  let history = load("history", []);
  let storedItems = history.length;  // drawn from storage, not yet known to be this chat's
  let agentAfter = load("agentAfter", 0);

  // ------------------------------------------------------------------ language

  // The page speaks the conversation's language: the page's own at first, then the one the
  // bot answers in (the X-Conversation-Language header of each answer).
  let language = load("language", config.language);
  if (!config.languages[language]) language = config.language;

  function words() {
    return config.languages[language] || config.languages[config.language];
  }

  function t(key, values) {
    let text = String(words().texts[key] || "");
    for (const [name, value] of Object.entries(values || {})) text = text.split(`{${name}}`).join(value);
    return text;
  }

  // ------------------------------------------------------------------ drawing

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function safeUrl(url) {
    return typeof url === "string" && /^https?:\/\//i.test(url) ? url : null;
  }

  function link(url, text, className) {
    const anchor = element("a", className, text);
    anchor.href = url;
    anchor.target = "_blank";
    anchor.rel = "noopener noreferrer";
    return anchor;
  }

  function withLinks(text) {
    const fragment = document.createDocumentFragment();
    let last = 0;
    for (const match of text.matchAll(URL_PATTERN)) {
      let url = match[0].replace(/[.,;:!?)]+$/, "");
      fragment.append(text.slice(last, match.index));
      fragment.append(link(url, url));
      last = match.index + url.length;
    }
    fragment.append(text.slice(last));
    return fragment;
  }

  function avatar(size) {
    const box = element("div", "avatar" + (size ? " " + size : ""));
    const showInitials = () => {
      box.replaceChildren(config.initials);
    };
    const url = safeUrl(config.avatarUrl);
    if (url) {
      const image = element("img");
      image.alt = "";
      image.addEventListener("error", showInitials);
      image.src = url;
      box.append(image);
    } else {
      showInitials();
    }
    return box;
  }

  function scrollDown() {
    messages.scrollTop = messages.scrollHeight;
  }

  function row(who, content) {
    const line = element("div", "row " + who);
    line.dataset.who = who;
    if (who === "bot") line.append(avatar("small"));
    line.append(content);
    messages.append(line);
    scrollDown();
    return line;
  }

  function drawItem(item) {
    if (item.kind === "text") {
      const bubble = element("div", "bubble");
      bubble.append(withLinks(item.text));
      let content = bubble;
      if (item.links && item.links.length) {
        content = element("div", "stack");
        const buttons = element("div", "buttons");
        for (const button of item.links) buttons.append(link(button.url, button.title, "button-link"));
        bubble.classList.add("with-buttons");
        content.append(bubble, buttons);
      }
      if (item.who === "agent") {
        const stack = element("div", "stack");
        stack.append(element("div", "from-team", t("team", { brand: config.brandName })), content);
        content = stack;
      }
      row(item.who, content).classList.add("msg");
    } else if (item.kind === "image") {
      const bubble = element("div", "bubble");
      const image = element("img");
      image.src = item.url;
      image.alt = "image";
      bubble.append(image);
      row(item.who, bubble).classList.add("msg");
    } else if (item.kind === "card") {
      const card = element("div", "card");
      if (item.image) {
        const picture = element("img", "card-image");
        picture.alt = "";
        picture.addEventListener("error", () => picture.remove());  // no broken picture
        picture.src = item.image;
        card.append(picture);
      }
      const body = element("div", "card-body");
      body.append(element("div", "card-title", item.title));
      if (item.subtitle) body.append(element("div", "card-subtitle", item.subtitle));
      card.append(body);
      if (item.url) card.append(link(item.url, item.buttonTitle || t("open"), "card-button"));
      row("bot", card).classList.add("msg", "order-card");
    }
  }

  function remember(item) {
    history.push(item);
    save("history", history.slice(-200));
    drawItem(item);
  }

  function showQuickReplies(buttons) {
    quickReplies.replaceChildren();
    for (const button of buttons.slice(0, MAX_QUICK_REPLIES)) {
      const title = String(button.title || "");
      const short = title.length > QUICK_REPLY_TITLE_CHARS
        ? title.slice(0, QUICK_REPLY_TITLE_CHARS - 1) + "\u2026" : title;
      const chip = element("button", "chip", short);
      chip.type = "button";
      chip.title = title;
      chip.addEventListener("click", () => send(String(button.payload), title));
      quickReplies.append(chip);
    }
  }

  let typingRow = null;

  function typing(on) {
    if (on && !typingRow) {
      const bubble = element("div", "bubble");
      bubble.append(element("span", "dot"), element("span", "dot"), element("span", "dot"));
      typingRow = row("bot", bubble);
      typingRow.classList.add("typing");
      typingRow.setAttribute("aria-label", t("typing", { bot: config.botName }));
    } else if (!on && typingRow) {
      typingRow.remove();
      typingRow = null;
    }
  }

  function showError(message, retry) {
    const note = element("div", "error", message);
    const again = element("button", "", t("retry"));
    again.type = "button";
    again.addEventListener("click", () => {
      note.remove();
      retry();
    });
    note.append(again);
    messages.append(note);
    scrollDown();
  }

  // ------------------------------------------------------------------ the bot's answers

  function drawAnswer(answer) {
    let chips = [];
    for (const message of answer) {
      const buttons = Array.isArray(message.buttons) ? message.buttons : [];
      const links = buttons
        .filter((b) => safeUrl(b.url))
        .map((b) => ({ title: String(b.title || b.url), url: b.url }));
      const payloads = buttons.filter((b) => !safeUrl(b.url) && b.payload !== undefined);
      if (typeof message.text === "string" && message.text) {
        remember({ who: "bot", kind: "text", text: message.text, links });
      }
      if (safeUrl(message.image)) remember({ who: "bot", kind: "image", url: message.image });
      const card = message.custom && message.custom.order_card;
      if (card && typeof card === "object") {
        remember({
          who: "bot", kind: "card", title: String(card.title || ""),
          subtitle: String(card.subtitle || ""), url: safeUrl(card.tracking_url),
          image: safeUrl(card.image_url),
          buttonTitle: String(card.button_title || ""),
        });
      }
      if (payloads.length) chips = payloads;
    }
    showQuickReplies(chips);
  }

  // ------------------------------------------------------------------ sending

  let queue = Promise.resolve();

  function firstName() {
    return firstNameInput.value.trim();
  }

  async function deliver(message, displayText) {
    const tapped = Boolean(displayText) && message.startsWith("/");
    typing(true);
    let answer;
    try {
      const response = await fetch(config.webhook, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json" },
        // a tapped chip, ice breaker or menu item sends its payload; typed text is words
        body: JSON.stringify({
          ...(tapped ? { payload: message } : { message }),
          display_text: displayText || null, first_name: firstName() || null, language,
        }),
      });
      const spoken = response.headers.get("X-Conversation-Language");
      if (spoken && config.languages[spoken] && spoken !== language) {
        language = spoken;
        save("language", language);
        applyLanguage();
      }
      const body = await response.json().catch(() => null);
      if (!response.ok) {
        const reason = body && body.error ? body.error : `the server answered ${response.status}`;
        throw new Error(reason);
      }
      answer = Array.isArray(body) ? body : [];
    } catch (error) {
      typing(false);
      const reason = error instanceof TypeError ? t("unreachable") : error.message;
      showError(t("not_delivered", { reason }), () => {
        queue = queue.then(() => deliver(message, displayText));
      });
      return;
    }
    typing(false);
    drawAnswer(answer);
  }

  function send(message, displayText) {
    message = message.trim();
    if (!message) return;
    welcome.hidden = true;
    menu.hidden = true;
    quickReplies.replaceChildren();
    remember({ who: "user", kind: "text", text: displayText || message });
    queue = queue.then(() => deliver(message, displayText));
  }

  // ------------------------------------------------------------------ the session

  let sessionKnown = false;
  let sessionAsk = null;

  function redraw() {
    for (const node of messages.querySelectorAll(".row, .error")) node.remove();
    quickReplies.replaceChildren();
    welcome.hidden = history.length > 0;
    for (const item of history) drawItem(item);
  }

  // GET: which conversation the cookie is (the server opens one if there is none);
  // POST: a new conversation ("New chat", the page already emptied). Messages and polls wait
  // for it, so they carry its cookie.
  async function useSession(method) {
    const response = await fetch(config.session, {
      method, credentials: "same-origin", cache: "no-store",
    });
    const body = await response.json().catch(() => null);
    if (!response.ok || !body || typeof body.conversation !== "string") {
      throw new Error(`the server answered ${response.status}`);
    }
    if (body.conversation !== conversation) {
      // what was stored belongs to another conversation (an expired or a lost cookie, or
      // an older page); what was sent since the page opened went to this one
      conversation = body.conversation;
      agentAfter = 0;
      save("conversation", conversation);
      save("agentAfter", agentAfter);
      if (storedItems) {
        history = history.slice(storedItems);
        save("history", history);
        redraw();
      }
    }
    storedItems = 0;
    sessionKnown = true;
  }

  function askSession(method) {
    sessionKnown = false;
    const asking = useSession(method).catch(() => {
      // offline or the bot restarting: asked again at the next poll
    });
    sessionAsk = asking;
    asking.then(() => {
      if (sessionAsk === asking) sessionAsk = null;
    });
    queue = queue.then(() => asking);  // messages go after it, with its cookie
    return asking;
  }

  // ------------------------------------------------------------------ a person's replies

  async function fetchAgentMessages() {
    if (document.hidden) return;
    if (!sessionKnown) {
      if (!sessionAsk) askSession("GET");
      return;
    }
    const asked = conversation;
    try {
      const url = `${config.agentMessages}?after=${agentAfter}`;
      const response = await fetch(url, { cache: "no-store", credentials: "same-origin" });
      if (!response.ok) return;
      const body = await response.json();
      if (asked !== conversation || !sessionKnown) return;  // a new chat began meanwhile
      for (const message of body.messages || []) {
        if (typeof message.id !== "number" || message.id <= agentAfter) continue;
        agentAfter = message.id;
        save("agentAfter", agentAfter);
        welcome.hidden = true;
        remember({ who: "agent", kind: "text", text: String(message.text || ""), links: [] });
      }
    } catch (error) {
      // offline or the bot restarting: asked again at the next tick
    }
  }

  // ------------------------------------------------------------------ the page

  function fillGreeting() {
    const name = firstName();
    const text = words().greeting
      .replace(/\{\{user_(first|last|full)_name\}\}/g, name)
      .replace(/\s+([!,.?])/g, "$1");
    $("greeting").textContent = text;
  }

  function applyLanguage() {
    document.documentElement.lang = language;
    $("status").textContent = t("status");
    const newChat = $("new-chat");
    newChat.textContent = t("new_chat");
    newChat.title = t("new_chat_hint");
    $("your-name").textContent = t("your_name");
    input.setAttribute("aria-label", t("message_label"));
    $("send").textContent = t("send");
    $("send").setAttribute("aria-label", t("send"));
    $("menu-button").setAttribute("aria-label", t("menu"));
    $("menu-button").title = t("menu");
    fillGreeting();

    const iceBreakers = $("ice-breakers");
    iceBreakers.replaceChildren();
    for (const question of words().iceBreakers) {
      const button = element("button", "ice-breaker", question.title);
      button.type = "button";
      button.addEventListener("click", () => send(question.payload, question.title));
      iceBreakers.append(button);
    }

    menu.replaceChildren();
    for (const item of words().menu) {
      if (item.payload) {
        const button = element("button", "menu-item", item.title);
        button.type = "button";
        button.addEventListener("click", () => send(item.payload, item.title));
        menu.append(button);
      } else if (safeUrl(item.url)) {
        menu.append(link(item.url, item.title, "menu-item"));
      }
    }
  }

  function start() {
    for (const box of $$("avatar")) box.replaceWith(avatar(box.classList.contains("big") ? "big" : ""));
    for (const node of $$("bot-name")) node.textContent = config.botName;
    $("brand-name").textContent = config.brandName;
    firstNameInput.value = load("firstName", "");
    firstNameInput.addEventListener("input", () => {
      save("firstName", firstName());
      fillGreeting();
    });
    applyLanguage();
    $("menu-button").addEventListener("click", () => {
      menu.hidden = !menu.hidden;
    });

    $("composer").addEventListener("submit", (event) => {
      event.preventDefault();
      const text = input.value;
      input.value = "";
      send(text);
      input.focus();
    });

    $("new-chat").addEventListener("click", () => {
      history = [];
      storedItems = 0;
      agentAfter = 0;
      save("history", history);
      save("agentAfter", agentAfter);
      redraw();
      askSession("POST");
    });

    if (history.length) {
      welcome.hidden = true;
      for (const item of history) drawItem(item);
    }
    input.focus();
    askSession("GET").then(fetchAgentMessages);
    setInterval(fetchAgentMessages, AGENT_POLL_MS);
  }

  start();
})();
