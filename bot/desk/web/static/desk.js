// The desk's only script: on a ticket page, new messages of the conversation appear by
// themselves. Every text goes in with textContent, never as HTML.
(function () {
  "use strict";
  const list = document.querySelector(".transcript[data-case]");
  if (!list) return;
  const POLL_MS = 5000;

  function line(item) {
    const li = document.createElement("li");
    li.className = "line " + item.sender;
    const when = document.createElement("span");
    when.className = "when";
    when.textContent = item.when;
    const who = document.createElement("strong");
    who.textContent = item.sender;
    li.append(when, " ", who, ": " + item.text);
    return li;
  }

  async function poll() {
    try {
      const response = await fetch(`/api/tickets/${list.dataset.case}`, {
        headers: { Accept: "application/json" }, credentials: "same-origin",
      });
      if (response.ok) {
        const ticket = await response.json();
        const known = Number(list.dataset.count);
        for (const item of ticket.transcript.slice(known)) list.append(line(item));
        list.dataset.count = String(ticket.transcript.length);
        list.dataset.status = ticket.status;
      }
    } finally {
      setTimeout(poll, POLL_MS);
    }
  }

  setTimeout(poll, POLL_MS);
})();
