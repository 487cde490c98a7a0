/* MedConcierge console: live queue and transcript over server-sent events, badge and beep.
   Rows and messages come from the server as escaped HTML fragments; this file never builds
   markup from patient text. No inline handlers: everything is bound here. */
(function () {
  "use strict";

  var body = document.body;
  var prefix = body.dataset.prefix || "/console";
  var page = body.dataset.page;
  var baseTitle = document.title;
  var badge = document.getElementById("live-badge");
  var statusLine = document.getElementById("live-status");
  var unseen = 0;
  var audio = null;
  var soundOn = window.localStorage && localStorage.getItem("mc-sound") === "on";

  function setStatus(text) {
    if (statusLine) { statusLine.textContent = text; }
  }

  function showSound(button) {
    button.textContent = "Sound: " + (soundOn ? "on" : "off");
  }

  function beep() {
    if (!soundOn) { return; }
    try {
      if (!audio) { audio = new (window.AudioContext || window.webkitAudioContext)(); }
      var osc = audio.createOscillator();
      var gain = audio.createGain();
      osc.type = "sine";
      osc.frequency.value = 880;
      gain.gain.setValueAtTime(0.08, audio.currentTime);
      gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.25);
      osc.connect(gain);
      gain.connect(audio.destination);
      osc.start();
      osc.stop(audio.currentTime + 0.25);
    } catch (err) { /* no audio device: the badge still shows */ }
  }

  function bump() {
    unseen += 1;
    if (badge) { badge.textContent = String(unseen); badge.hidden = false; }
    document.title = "(" + unseen + ") " + baseTitle;
    beep();
  }

  function clearBadge() {
    unseen = 0;
    if (badge) { badge.hidden = true; badge.textContent = "0"; }
    document.title = baseTitle;
  }

  function fragment(html) {
    var template = document.createElement("template");
    template.innerHTML = html;
    return template.content;
  }

  function fetchText(url) {
    return fetch(url, { credentials: "same-origin", headers: { "Accept": "text/x-fragment" } })
      .then(function (response) {
        if (response.status === 401) { window.location.assign(prefix + "/login"); return null; }
        if (response.status === 204 || response.status === 404) { return ""; }
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.text();
      });
  }

  function listen(url, handlers) {
    var source = new EventSource(url, { withCredentials: true });
    source.onopen = function () { setStatus("Live updates: on"); };
    source.onerror = function () { setStatus("Live updates: reconnecting…"); };
    Object.keys(handlers).forEach(function (name) {
      source.addEventListener(name, function (event) {
        var data;
        try { data = JSON.parse(event.data); } catch (err) { return; }
        handlers[name](data);
      });
    });
    window.addEventListener("beforeunload", function () { source.close(); });
    return source;
  }

  /* Queue page: insert or refresh the row of a case, keeping the SLA order. */
  function startQueue() {
    var tbody = document.getElementById("queue-rows");
    if (!tbody) { return; }
    var filters = tbody.dataset.filters || "";

    function insertSorted(row) {
      var sla = row.dataset.sla || "";
      var rows = tbody.querySelectorAll("tr.case-row");
      for (var i = 0; i < rows.length; i += 1) {
        if ((rows[i].dataset.sla || "") > sla) { tbody.insertBefore(row, rows[i]); return; }
      }
      tbody.appendChild(row);
    }

    function recount() {
      var rows = tbody.querySelectorAll("tr.case-row");
      var count = document.getElementById("queue-count");
      var open = document.getElementById("queue-unassigned");
      if (count) { count.textContent = String(rows.length); }
      if (open) { open.textContent = String(tbody.querySelectorAll("tr.case-row.unassigned").length); }
    }

    function refresh(data) {
      var id = Number(data.case_id);
      if (!id) { return; }
      var existing = document.getElementById("case-" + id);
      if (data.kind === "gone") { if (existing) { existing.remove(); recount(); } return; }
      fetchText(prefix + "/queue/rows/" + id + (filters ? "?" + filters : "")).then(function (html) {
        if (html === null) { return; }
        var current = document.getElementById("case-" + id);
        if (!html) { if (current) { current.remove(); recount(); } return; }
        var row = fragment(html).querySelector("tr");
        if (!row) { return; }
        row.classList.add("fresh");
        var empty = document.getElementById("queue-empty");
        if (empty) { empty.remove(); }
        if (current) {
          current.remove();
          insertSorted(row);
          if (data.author === "patient") { bump(); }
        } else {
          insertSorted(row);
          bump();
        }
        recount();
      }).catch(function () { setStatus("Live updates: could not refresh a row"); });
    }

    listen(prefix + "/events", { "case": refresh });
  }

  /* Case page: append new transcript items. */
  function startCase() {
    var list = document.getElementById("transcript");
    if (!list) { return; }
    var caseId = list.dataset.caseId;
    list.scrollTop = list.scrollHeight;  // the latest messages first in view
    var loading = false;
    var again = false;

    function load(author) {
      if (loading) { again = true; return; }
      loading = true;
      var after = list.dataset.lastId || "0";
      fetchText(prefix + "/cases/" + caseId + "/messages?after=" + encodeURIComponent(after)).then(function (html) {
        if (html) {
          var items = fragment(html).querySelectorAll("li[data-message-id]");
          items.forEach(function (item) {
            var id = Number(item.dataset.messageId);
            if (document.querySelector('li[data-message-id="' + id + '"]')) { return; }
            item.classList.add("fresh");
            list.appendChild(item);
            if (id > Number(list.dataset.lastId || 0)) { list.dataset.lastId = String(id); }
          });
          if (items.length) {
            list.scrollTop = list.scrollHeight;
            if (author === "patient") { bump(); }
          }
        }
      }).catch(function () { setStatus("Live updates: could not load new messages"); })
        .then(function () {
          loading = false;
          if (again) { again = false; load(author); }
        });
    }

    /* A change made elsewhere (a colleague, another tab): say so, never reload over a draft reply. */
    var changes = {
      claimed: "A coordinator claimed this case.",
      assigned: "The case was reassigned.",
      status: "The case status changed.",
      stage: "The case stage changed.",
      priority: "The case priority changed.",
      labels: "The case labels changed.",
      returned_to_bot: "The conversation went back to the bot."
    };
    function changed(data) {
      var text = data.kind === "gone" ? "A colleague took this case: you can no longer work on it."
        : changes[data.change];
      var notice = document.getElementById("case-changed");
      if (!text || !notice) { return; }
      document.getElementById("case-changed-text").textContent = text;
      notice.hidden = false;
      if (data.kind === "gone") { source.close(); setStatus("Live updates: off"); }
    }

    var source = listen(prefix + "/cases/" + caseId + "/events", {
      "message": function (data) { load(data.author); },
      "case": changed
    });

    var canned = document.getElementById("canned");
    var text = document.getElementById("reply-text");
    if (canned && text) {
      canned.addEventListener("change", function () {
        if (!canned.value) { return; }
        text.value = text.value ? text.value + "\n\n" + canned.value : canned.value;
        canned.value = "";
        text.focus();
      });
    }
  }

  var toggle = document.getElementById("sound-toggle");
  if (toggle) {
    showSound(toggle);
    toggle.addEventListener("click", function () {
      soundOn = !soundOn;
      if (window.localStorage) { localStorage.setItem("mc-sound", soundOn ? "on" : "off"); }
      showSound(toggle);
      beep();  // also unlocks audio: browsers allow sound only after a user gesture
    });
  }
  if (badge) { badge.addEventListener("click", clearBadge); }
  window.addEventListener("focus", clearBadge);

  if (page === "queue") { startQueue(); }
  if (page === "case") { startCase(); }
}());
