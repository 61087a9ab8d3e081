/* The vault pages' little JavaScript. Every page works without it:
   copy buttons start hidden, "Generate" falls back to a server round trip,
   and the TOTP code is rendered by the server. No inline scripts (CSP). */
(function () {
  "use strict";

  var PASSWORD_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789!@#$%^&*-_=+";
  var PASSWORD_LENGTH = 20;
  var TOTP_REFRESH_LIMIT = 20; // about ten minutes of codes; then the page asks for a reload

  function csrfToken() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function post(url, fields) {
    var body = new FormData();
    body.append("csrfmiddlewaretoken", csrfToken());
    Object.keys(fields || {}).forEach(function (key) { body.append(key, fields[key]); });
    return fetch(url, { method: "POST", body: body, credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
      .then(function (response) {
        return response.json().then(function (data) {
          if (!response.ok) { throw new Error(data.error || "Request failed"); }
          return data;
        });
      });
  }

  function writeClipboard(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    var ok = document.execCommand("copy");
    document.body.removeChild(area);
    return ok ? Promise.resolve() : Promise.reject(new Error("Copy failed"));
  }

  function flash(button, text) {
    var original = button.dataset.label || button.textContent;
    button.dataset.label = original;
    button.textContent = text;
    window.setTimeout(function () { button.textContent = original; }, 1500);
  }

  function setUpCopyButtons() {
    document.querySelectorAll("button[data-copy-text], button[data-copy-url]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        var pending;
        if (button.dataset.copyUrl) {
          // The password is fetched on click only, and the server records "password copied".
          pending = post(button.dataset.copyUrl).then(function (data) { return writeClipboard(data.value); });
        } else {
          var target = document.querySelector(button.dataset.copyText);
          pending = writeClipboard(target ? target.textContent.trim() : "");
        }
        pending.then(function () { flash(button, "Copied"); }, function () { flash(button, "Copy failed"); });
      });
    });
  }

  function randomPassword() {
    var values = new Uint32Array(PASSWORD_LENGTH);
    var limit = Math.floor(0x100000000 / PASSWORD_ALPHABET.length) * PASSWORD_ALPHABET.length;
    var result = "";
    while (result.length < PASSWORD_LENGTH) {
      window.crypto.getRandomValues(values);
      for (var i = 0; i < values.length && result.length < PASSWORD_LENGTH; i++) {
        if (values[i] < limit) { result += PASSWORD_ALPHABET[values[i] % PASSWORD_ALPHABET.length]; }
      }
    }
    return result;
  }

  function setUpGenerators() {
    document.querySelectorAll("button[data-generate-for]").forEach(function (button) {
      button.addEventListener("click", function (event) {
        var input = document.getElementById(button.dataset.generateFor);
        if (!input || !window.crypto || !window.crypto.getRandomValues) { return; } // server fallback
        event.preventDefault();
        input.value = randomPassword();
        input.type = "text"; // let the user see what was generated
        flash(button, "Generated");
      });
    });
  }

  function setUpTotp() {
    document.querySelectorAll("[data-totp]").forEach(function (box) {
      var seconds = parseInt(box.dataset.remaining, 10);
      var code = box.querySelector(".totp-code");
      var counter = box.querySelector("[data-totp-seconds]");
      var refreshes = 0;
      var busy = false;
      window.setInterval(function () {
        if (busy) { return; }
        seconds -= 1;
        if (seconds > 0) { counter.textContent = String(seconds); return; }
        if (!box.dataset.refreshUrl || refreshes >= TOTP_REFRESH_LIMIT) {
          code.textContent = "expired";
          counter.parentNode.textContent = "reload the page for a new code";
          busy = true;
          return;
        }
        busy = true;
        refreshes += 1;
        post(box.dataset.refreshUrl).then(function (data) {
          code.textContent = data.code;
          seconds = data.remaining;
          counter.textContent = String(seconds);
          busy = false;
        }, function () {
          code.textContent = "expired";
          counter.parentNode.textContent = "reload the page for a new code";
        });
      }, 1000);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    setUpCopyButtons();
    setUpGenerators();
    setUpTotp();
  });
})();
