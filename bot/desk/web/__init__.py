"""The agents' desk on the web (aiohttp): routes, handlers by section, pages from templates.

`bot.desk.web.factory.create_app` builds the application; `bot.desk.web.routes` lists every
route with its access rule; the handlers of each section live in a module of their own and
render the templates of ``templates/`` through `bot.desk.web.rendering`.
"""
