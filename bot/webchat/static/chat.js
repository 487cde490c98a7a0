/* MedConcierge web chat: talks to the REST channel, restores the transcript, streams coordinator replies.
 *
 * The sender id is a random uuid kept in localStorage: it is the only credential of an anonymous web chat
 * (whoever knows it can read this conversation), so it is never put in a URL shown to the user or sent
 * anywhere but this application. Text is always inserted with textContent (never as HTML).
 */
(function () {
  "use strict";

  var SENDER_KEY = "mc.webchat.sender";
  var LANGUAGE_KEY = "mc.webchat.language";
  var body = document.body;
  var strings = JSON.parse(body.dataset.strings);
  var payloads = JSON.parse(body.dataset.payloads);
  var list = document.getElementById("messages");
  var form = document.getElementById("composer");
  var input = document.getElementById("input");
  var sendButton = document.getElementById("send");
  var picker = document.getElementById("language");
  var statusLine = document.getElementById("status");
  var newChat = document.getElementById("new-chat");
  var shownIds = new Set();
  var lastId = 0;
  var stream = null;
  var reconnectTimer = null;
  var language = body.dataset.language;

  function uuid() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) { return (b + 0x100).toString(16).slice(1); }).join("");
    return hex.slice(0, 8) + "-" + hex.slice(8, 12) + "-" + hex.slice(12, 16) + "-" + hex.slice(16, 20) + "-" + hex.slice(20);
  }

  function storage(key, value) {
    try {
      if (value === undefined) { return window.localStorage.getItem(key); }
      window.localStorage.setItem(key, value);
    } catch (e) { /* storage blocked (private mode, third-party iframe): the chat still works for this page */ }
    return null;
  }

  var sender = storage(SENDER_KEY);
  if (!sender) { sender = uuid(); storage(SENDER_KEY, sender); }

  function label(key) { return (strings[language] || strings.en || {})[key] || key; }

  function applyLanguage(code) {
    language = code;
    document.documentElement.lang = code;
    document.documentElement.dir = code === "ar" ? "rtl" : "ltr";
    picker.value = code;
    document.querySelectorAll("[data-label]").forEach(function (node) { node.textContent = label(node.dataset.label); });
    document.querySelectorAll("[data-label-placeholder]").forEach(function (node) {
      node.placeholder = label(node.dataset.labelPlaceholder);
    });
    document.querySelectorAll("[data-label-aria]").forEach(function (node) {
      node.setAttribute("aria-label", label(node.dataset.labelAria));
    });
    document.querySelectorAll("[data-author-label]").forEach(function (node) {
      node.textContent = label(node.dataset.authorLabel);
    });
    document.title = label("title");
  }

  function showStatus(text) {
    statusLine.textContent = text;
    statusLine.hidden = !text;
  }

  function scrollDown() { list.scrollTop = list.scrollHeight; }

  /* A knowledge answer ends with "— Source: …, reviewed …" lines (one per source): shown small, apart. */
  function splitFooter(text, custom) {
    if (!text || !(custom && (custom.kb_id || custom.source))) { return [text || "", ""]; }
    var lines = text.split("\n");
    var start = lines.length;
    while (start > 0 && lines[start - 1].indexOf("— ") === 0) { start -= 1; }
    if (start === 0 || start === lines.length) { return [text, ""]; }
    return [lines.slice(0, start).join("\n").replace(/\s+$/, ""), lines.slice(start).join("\n")];
  }

  /* The seed file name is a left-to-right token: isolated, an Arabic footer does not scramble it. */
  function appendIsolated(node, text, token) {
    var at = token ? text.indexOf(token) : -1;
    if (at < 0) { node.textContent = text; return; }
    node.appendChild(document.createTextNode(text.slice(0, at)));
    var isolated = document.createElement("bdi");
    isolated.setAttribute("dir", "ltr");
    isolated.textContent = token;
    node.appendChild(isolated);
    node.appendChild(document.createTextNode(text.slice(at + token.length)));
  }

  function authorKey(author) {
    if (author === "patient") { return "you"; }
    if (author === "coordinator") { return "coordinator"; }
    return "assistant";
  }

  function addMessage(message) {
    if (message.id) {
      if (shownIds.has(message.id)) { return null; }
      shownIds.add(message.id);
      lastId = Math.max(lastId, message.id);
    }
    var custom = message.custom || {};
    var item = document.createElement("li");
    item.className = "message from-" + (message.author || "bot");
    if (custom.emergency) { item.classList.add("emergency"); }
    if (message.late) { item.classList.add("late"); }
    if (custom.handoff) { item.dataset.handoff = custom.handoff; }
    var who = document.createElement("span");
    who.className = "who";
    who.dataset.authorLabel = authorKey(message.author);
    who.textContent = label(who.dataset.authorLabel);
    item.appendChild(who);
    var bubble = document.createElement("div");
    bubble.className = "bubble";
    bubble.setAttribute("dir", "auto");
    var parts = splitFooter(message.text, custom);
    var text = document.createElement("p");
    text.className = "text";
    text.textContent = parts[0];
    bubble.appendChild(text);
    if (parts[1]) {
      var footer = document.createElement("small");
      footer.className = "source";
      footer.setAttribute("dir", "auto");
      appendIsolated(footer, parts[1], custom.source);
      if (custom.kb_id) { footer.title = custom.kb_id; }
      bubble.appendChild(footer);
    }
    if (message.late) {
      var note = document.createElement("small");
      note.className = "late-note";
      note.dataset.label = "late";
      note.textContent = label("late");
      bubble.appendChild(note);
    }
    item.appendChild(bubble);
    if (message.buttons && message.buttons.length) { item.appendChild(quickReplies(message.buttons)); }
    list.appendChild(item);
    scrollDown();
    return item;
  }

  function quickReplies(buttons) {
    var group = document.createElement("div");
    group.className = "quick-replies";
    group.setAttribute("role", "group");
    buttons.forEach(function (button) {
      var node = document.createElement("button");
      node.type = "button";
      node.className = "quick-reply";
      node.dataset.payload = button.payload;
      node.setAttribute("dir", "auto");
      node.textContent = button.title;
      node.addEventListener("click", function () {
        group.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
        node.classList.add("chosen");
        send(button.payload, button.title);
      });
      group.appendChild(node);
    });
    return group;
  }

  function post(message, messageId, attempt) {
    return fetch("/webhooks/rest/webhook", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ sender: sender, message: message, metadata: { language: language, message_id: messageId } })
    }).then(function (response) {
      if (response.status >= 500 && attempt < 3) { throw new Error("retry"); }
      if (!response.ok) { return Promise.reject(new Error("HTTP " + response.status)); }
      return response.json();
    }).catch(function (error) {
      if (attempt >= 3 || error.message.indexOf("HTTP ") === 0) { throw error; }
      // Same message_id on every attempt: the server answers a resend once, never twice.
      return new Promise(function (resolve) { setTimeout(resolve, 800 * Math.pow(2, attempt)); })
        .then(function () { return post(message, messageId, attempt + 1); });
    });
  }

  var queue = Promise.resolve();

  /* Messages are sent one after another so the bot sees them in the order the patient wrote them. */
  function send(message, shown) {
    var mine = addMessage({ author: "patient", text: shown || message });
    mine.classList.add("pending");
    var messageId = uuid();
    queue = queue.then(function () {
      return post(message, messageId, 0).then(function (replies) {
        mine.classList.remove("pending");
        replies.forEach(function (reply) {
          addMessage({ author: "bot", text: reply.text, buttons: reply.buttons, custom: reply.custom });
        });
        openStream();
      }).catch(function () {
        mine.classList.remove("pending");
        mine.classList.add("failed");
        var note = document.createElement("small");
        note.className = "failed-note";
        note.dataset.label = "not_sent";
        note.textContent = label("not_sent");
        mine.querySelector(".bubble").appendChild(note);
      });
    });
    return queue;
  }

  function openStream() {
    if (stream || !window.EventSource) { return; }
    stream = new EventSource("/webchat/stream?sender=" + encodeURIComponent(sender) + "&after=" + lastId);
    stream.addEventListener("message", function (event) {
      addMessage(JSON.parse(event.data));
    });
    stream.addEventListener("open", function () {
      clearTimeout(reconnectTimer);
      reconnectTimer = null;
      showStatus("");
    });
    stream.addEventListener("error", function () {
      // The browser reconnects by itself (Last-Event-ID); say so only if it takes a while.
      if (reconnectTimer) { return; }
      reconnectTimer = setTimeout(function () {
        reconnectTimer = null;
        if (stream && stream.readyState !== EventSource.OPEN) { showStatus(label("reconnecting")); }
      }, 4000);
    });
  }

  function closeStream() {
    if (stream) { stream.close(); stream = null; }
    clearTimeout(reconnectTimer);
    reconnectTimer = null;
    showStatus("");
  }

  function loadHistory() {
    return fetch("/webchat/history?sender=" + encodeURIComponent(sender), { cache: "no-store" })
      .then(function (response) { return response.ok ? response.json() : { messages: [] }; })
      .then(function (data) {
        data.messages.forEach(function (message) { addMessage(message); });
        // Buttons of earlier turns stay visible but only the latest ones are still meant to be used.
        var groups = list.querySelectorAll(".quick-replies");
        for (var i = 0; i < groups.length - 1; i += 1) {
          groups[i].querySelectorAll("button").forEach(function (b) { b.disabled = true; });
        }
        if (data.messages.length) { openStream(); }
      })
      .catch(function () { showStatus(label("reconnecting")); });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text) { return; }
    input.value = "";
    send(text);
    input.focus();
  });

  input.addEventListener("keydown", function (event) {
    // Enter sends, Shift+Enter starts a new line; an IME composition's Enter only confirms the characters.
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit ? form.requestSubmit(sendButton) : sendButton.click();
    }
  });

  if (body.classList.contains("embed") && window.parent !== window) {
    document.addEventListener("keydown", function (event) {
      // The widget on the host page closes the chat; the message carries nothing else.
      if (event.key === "Escape") { window.parent.postMessage({ type: "medconcierge:close" }, "*"); }
    });
  }

  picker.addEventListener("change", function () {
    var code = picker.value;
    applyLanguage(code);
    storage(LANGUAGE_KEY, code);
    var option = picker.options[picker.selectedIndex];
    if (payloads[code]) { send(payloads[code], option.textContent); }
  });

  newChat.addEventListener("click", function () {
    closeStream();
    sender = uuid();
    storage(SENDER_KEY, sender);
    shownIds.clear();
    lastId = 0;
    while (list.firstChild) { list.removeChild(list.firstChild); }
    input.focus();
  });

  var fromUrl = new URLSearchParams(window.location.search).get("lang");
  var saved = storage(LANGUAGE_KEY);
  if (!fromUrl && saved && saved !== language && strings[saved]) { applyLanguage(saved); }
  loadHistory();
})();
