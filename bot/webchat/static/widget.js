/* MedConcierge chat widget: <script src="https://APP/webchat/widget.js" async></script> on any page.
 *
 * Adds a floating button that opens the chat page of the same application in an iframe
 * (/chat?embed=1). Optional attributes on the script tag: data-language="ar", data-position="left".
 * The application must list the site's origin in http.cors_origins (frame-ancestors of /chat?embed=1).
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.__medconciergeWidget) { return; }
  window.__medconciergeWidget = true;
  var base = new URL(script.src, window.location.href).origin;
  var language = script.getAttribute("data-language") || "";
  var left = script.getAttribute("data-position") === "left";
  var labels = { open: script.getAttribute("data-label-open") || "Chat", close: "×" };

  var side = left ? "left" : "right";
  var button = document.createElement("button");
  button.type = "button";
  button.id = "medconcierge-launcher";
  // A stable name; aria-expanded tells whether the chat is open (the visible text switches to ×).
  button.setAttribute("aria-label", script.getAttribute("data-label") || "MedConcierge chat");
  button.textContent = labels.open;
  button.setAttribute("aria-expanded", "false");
  button.setAttribute("aria-controls", "medconcierge-chat");
  button.style.cssText = "position:fixed;bottom:20px;" + side + ":20px;z-index:2147483000;min-width:56px;height:56px;" +
    "padding:0 18px;border:0;border-radius:28px;background:#0b5cad;color:#fff;font:600 16px system-ui,sans-serif;" +
    "box-shadow:0 4px 14px rgba(0,0,0,.25);cursor:pointer";

  var frame = null;
  function open() {
    if (!frame) {
      frame = document.createElement("iframe");
      frame.id = "medconcierge-chat";
      frame.title = "MedConcierge chat";
      frame.src = base + "/chat?embed=1" + (language ? "&lang=" + encodeURIComponent(language) : "");
      frame.style.cssText = "position:fixed;bottom:88px;" + side + ":20px;z-index:2147483000;" +
        "width:min(380px,calc(100vw - 40px));height:min(600px,calc(100vh - 110px));border:1px solid #d7dde4;" +
        "border-radius:12px;background:#fff;box-shadow:0 8px 28px rgba(0,0,0,.25)";
      document.body.appendChild(frame);
    }
    frame.hidden = false;
    button.textContent = labels.close;
    button.setAttribute("aria-expanded", "true");
    frame.focus();
  }
  function close() {
    if (frame) { frame.hidden = true; }
    button.textContent = labels.open;
    button.setAttribute("aria-expanded", "false");
  }
  button.addEventListener("click", function () { (frame && !frame.hidden) ? close() : open(); });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && frame && !frame.hidden) { close(); button.focus(); }
  });
  // Escape inside the chat (the iframe has the focus) closes it too: the embedded page asks the widget.
  window.addEventListener("message", function (event) {
    if (frame && event.source === frame.contentWindow && event.origin === base &&
        event.data && event.data.type === "medconcierge:close") {
      close();
      button.focus();
    }
  });
  function attach() { document.body.appendChild(button); }
  if (document.body) { attach(); } else { document.addEventListener("DOMContentLoaded", attach); }
})();
