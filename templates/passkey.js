"use strict";
// Keygate's only script: the WebAuthn browser API for passkeys (W3C WebAuthn Level 2 §5.1.3,
// §5.1.4). Inlined into the sign-in, second-factor and account pages, allowed by its SHA-256 hash
// in their CSP; it talks to this server only. Binary members travel as base64url (RFC 4648 §5).
(function () {
  function dec(text) {
    var s = text.replace(/-/g, "+").replace(/_/g, "/");
    s += "===".slice((s.length + 3) % 4);
    return Uint8Array.from(atob(s), function (c) { return c.charCodeAt(0); }).buffer;
  }
  function enc(buffer) {
    var bytes = new Uint8Array(buffer), s = "";
    for (var i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
    return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function status(text) {
    var el = document.getElementById("passkey-status");
    if (el) el.textContent = text;
  }
  function credentials(list) {
    return (list || []).map(function (c) { return Object.assign({}, c, { id: dec(c.id) }); });
  }
  function requestOptions(options) {
    var pk = Object.assign({}, options.publicKey);
    pk.challenge = dec(pk.challenge);
    pk.allowCredentials = credentials(pk.allowCredentials);
    return pk;
  }
  function creationOptions(options) {
    var pk = Object.assign({}, options.publicKey);
    pk.challenge = dec(pk.challenge);
    pk.user = Object.assign({}, pk.user, { id: dec(pk.user.id) });
    pk.excludeCredentials = credentials(pk.excludeCredentials);
    return pk;
  }
  function assertionJSON(c) {
    var r = c.response;
    return {
      id: c.id, rawId: enc(c.rawId), type: c.type, extensions: {},
      response: {
        authenticatorData: enc(r.authenticatorData), clientDataJSON: enc(r.clientDataJSON),
        signature: enc(r.signature), userHandle: r.userHandle ? enc(r.userHandle) : null
      }
    };
  }
  function attestationJSON(c) {
    return {
      id: c.id, rawId: enc(c.rawId), type: c.type, extensions: {},
      response: { attestationObject: enc(c.response.attestationObject), clientDataJSON: enc(c.response.clientDataJSON) }
    };
  }
  function send(method, url, body, csrf) {
    var headers = { "content-type": "application/json" };
    if (csrf) headers["x-csrf-token"] = csrf;
    var init = { method: method, headers: headers, credentials: "same-origin" };
    if (body) init.body = JSON.stringify(body);
    return fetch(url, init).then(function (reply) {
      return reply.text().then(function (text) {
        var json = text ? JSON.parse(text) : {};
        if (!reply.ok) {
          var error = new Error(json.detail || "the server answered " + reply.status);
          error.type = json.type;
          throw error;
        }
        return json;
      });
    });
  }
  function failed(what) {
    return function (error) { status(what + ": " + (error && error.message ? error.message : error)); };
  }
  var supported = !!(window.PublicKeyCredential && navigator.credentials);
  document.querySelectorAll("[data-passkey-ui]").forEach(function (el) { el.hidden = !supported; });
  if (!supported) return;

  // The sign-in page: a passkey instead of the password (a discoverable credential), from the
  // button or, where the browser offers it, from the username field's autofill (its
  // `autocomplete="username webauthn"`; conditional mediation, WebAuthn Level 3 §5.1.4). Only one
  // request may be pending: the button aborts the autofill's.
  var signIn = document.getElementById("passkey-sign-in");
  if (signIn) {
    var form = document.getElementById("passkey-form");
    var explicit = false, autofill = null;
    var passkeySignIn = function (conditional) {
      var ceremony;
      return send("POST", signIn.dataset.optionsUrl).then(function (start) {
        if (conditional && explicit) return null;
        ceremony = start.ceremony;
        var request = { publicKey: requestOptions(start.options) };
        if (conditional) {
          autofill = new AbortController();
          request.mediation = "conditional";
          request.signal = autofill.signal;
        }
        return navigator.credentials.get(request);
      }).then(function (credential) {
        if (!credential) return;
        form.elements.ceremony.value = ceremony;
        form.elements.credential.value = JSON.stringify(assertionJSON(credential));
        form.submit();
      });
    };
    signIn.addEventListener("click", function () {
      explicit = true;
      if (autofill) autofill.abort();
      status("Waiting for your passkey…");
      passkeySignIn(false).catch(failed("The passkey did not sign you in"));
    });
    if (PublicKeyCredential.isConditionalMediationAvailable) {
      PublicKeyCredential.isConditionalMediationAvailable().then(function (available) {
        if (available && !explicit) return passkeySignIn(true);
      }).catch(function () {
        // Aborted by the button, or dismissed: the form and the button still work.
      });
    }
  }

  // The second-factor page: a passkey instead of a code.
  var second = document.getElementById("passkey-mfa");
  if (second) second.addEventListener("click", function () {
    status("Waiting for your passkey…");
    var options = JSON.parse(second.dataset.options);
    navigator.credentials.get({ publicKey: requestOptions(options) }).then(function (credential) {
      var form = document.getElementById("mfa-form");
      form.elements.credential.value = JSON.stringify(assertionJSON(credential));
      form.submit();
    }).catch(failed("The passkey did not verify you"));
  });

  // The account page: add a passkey through the account API (session cookie + CSRF token);
  // removing one is a plain form post. Adding one is a sensitive change: a session older than
  // the recent sign-in window sends the password with both calls (the field is shown then, or
  // once the server asks for it).
  var add = document.getElementById("add-passkey");
  if (add) add.addEventListener("click", function () {
    var csrf = add.dataset.csrf;
    var reauth = document.getElementById("passkey-reauth");
    var password = document.getElementById("passkey-password");
    var withPassword = function (body) {
      if (reauth && !reauth.hidden && password.value) body.password = password.value;
      return body;
    };
    status("Follow your browser's prompt to create a passkey…");
    var label = document.getElementById("passkey-label").value.trim();
    var ceremony;
    send("POST", add.dataset.optionsUrl, withPassword(label ? { label: label } : {}), csrf).then(function (start) {
      ceremony = start.ceremony;
      return navigator.credentials.create({ publicKey: creationOptions(start.options) });
    }).then(function (credential) {
      var body = withPassword({ ceremony: ceremony, credential: attestationJSON(credential) });
      return send("POST", add.dataset.registerUrl, body, csrf);
    }).then(function () { window.location.reload(); }).catch(function (error) {
      if (error && error.type === "urn:keygate:problem:reauthentication-required" && reauth) {
        reauth.hidden = false;
        password.focus();
        status("The passkey was not added: you signed in a while ago; enter your password and try again.");
        return;
      }
      failed("The passkey was not added")(error);
    });
  });
})();
