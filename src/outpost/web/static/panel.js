// Outpost control panel: small progressive enhancements. Every page works without this file.
(function () {
  "use strict";
  var root = document.documentElement;
  root.classList.remove("no-js");
  root.classList.add("js");

  function on(selector, event, handler) {
    document.addEventListener(event, function (e) {
      var target = e.target instanceof Element ? e.target.closest(selector) : null;
      if (target) handler(e, target);
    });
  }

  // Copy a secret to the clipboard, with a fallback for browsers without the async API.
  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    return new Promise(function (resolve, reject) {
      var area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.style.position = "fixed";
      area.style.opacity = "0";
      document.body.appendChild(area);
      area.select();
      var ok = document.execCommand("copy");
      document.body.removeChild(area);
      ok ? resolve() : reject(new Error("copy failed"));
    });
  }

  on("[data-copy]", "click", function (e, button) {
    var source = document.querySelector(button.getAttribute("data-copy"));
    if (!source) return;
    var label = button.querySelector("span");
    var original = label ? label.textContent : "";
    copyText(source.value || source.textContent).then(
      function () {
        button.classList.add("is-done");
        if (label) label.textContent = button.getAttribute("data-copied-label") || "Copied";
        announce("Copied to the clipboard.");
        setTimeout(function () {
          button.classList.remove("is-done");
          if (label) label.textContent = original;
        }, 2000);
      },
      function () {
        source.focus();
        source.select();
        announce("Press Ctrl+C to copy.");
      }
    );
  });

  on("[data-select-on-focus]", "focusin", function (e, input) {
    input.select();
  });

  on("[data-dismiss]", "click", function (e, button) {
    var alert = button.closest(".alert");
    if (alert) alert.remove();
  });

  // A polite live region for short confirmations.
  var live;
  function announce(text) {
    if (!live) {
      live = document.createElement("div");
      live.className = "sr-only";
      live.setAttribute("aria-live", "polite");
      document.body.appendChild(live);
    }
    live.textContent = "";
    setTimeout(function () { live.textContent = text; }, 50);
  }

  // The sidebar becomes a drawer on small screens.
  function setSidebar(open) {
    var toggle = document.querySelector("[data-sidebar-toggle]");
    var backdrop = document.querySelector(".backdrop");
    document.body.classList.toggle("sidebar-open", open);
    if (toggle) toggle.setAttribute("aria-expanded", open ? "true" : "false");
    if (backdrop) backdrop.hidden = !open;
    if (open) {
      var first = document.querySelector("#sidebar .nav-link");
      if (first) first.focus();
    } else if (toggle && document.activeElement && document.activeElement.closest("#sidebar")) {
      toggle.focus();
    }
  }
  on("[data-sidebar-toggle]", "click", function () {
    setSidebar(!document.body.classList.contains("sidebar-open"));
  });
  on("[data-sidebar-close]", "click", function () { setSidebar(false); });
  document.addEventListener("keydown", function (e) {
    if (e.key === "Escape" && document.body.classList.contains("sidebar-open")) setSidebar(false);
  });

  // Plan tiers: add a row by copying the last one with the next index.
  on("[data-add-tier]", "click", function () {
    var body = document.querySelector("[data-tiers] tbody");
    var rows = body ? body.querySelectorAll("[data-tier-row]") : [];
    if (!rows.length) return;
    var last = rows[rows.length - 1];
    var index = rows.length;
    var copy = last.cloneNode(true);
    copy.querySelectorAll(".field-error").forEach(function (n) { n.remove(); });
    copy.querySelectorAll("td").forEach(function (n) { n.classList.remove("has-error"); });
    copy.querySelectorAll("input, label").forEach(function (node) {
      ["id", "name", "for"].forEach(function (attr) {
        var value = node.getAttribute(attr);
        if (value) node.setAttribute(attr, value.replace(/(tiers[.-])\d+/, "$1" + index));
      });
      if (node.tagName === "LABEL") node.textContent = node.textContent.replace(/\d+$/, String(index + 1));
      if (node.tagName === "INPUT") {
        node.value = "";
        node.removeAttribute("aria-invalid");
        node.removeAttribute("aria-describedby");
      }
    });
    body.appendChild(copy);
    var input = copy.querySelector("input");
    if (input) input.focus();
  });
  // Account plans: each plan's slider shows the messages and price of the chosen tier, read
  // from the table the server wrote in data-tiers (the server prices every tier itself).
  function showTier(slider) {
    var tiers = JSON.parse(slider.getAttribute("data-tiers") || "[]");
    var tier = tiers[Number(slider.value)];
    var box = slider.closest("[data-tier-picker]");
    if (!tier || !box) return;
    box.querySelector("[data-tier-messages]").textContent = tier.messages;
    box.querySelector("[data-tier-price]").textContent = tier.price;
    slider.setAttribute("aria-valuetext", tier.messages + " messages, " + tier.price);
  }
  on("[data-tiers]", "input", function (e, slider) { showTier(slider); });

  // Only the chosen plan's card is expanded; picking a plan by its slider selects it too.
  function selectPlan(option) {
    var picker = option.closest("[data-plan-picker]");
    if (!picker) return;
    picker.querySelectorAll("[data-plan-option]").forEach(function (other) {
      other.classList.toggle("is-selected", other === option);
    });
    var radio = option.querySelector('input[type="radio"]');
    if (radio && !radio.checked) radio.checked = true;
  }
  on("[data-plan-option]", "change", function (e, option) { selectPlan(option); });
  on("[data-plan-option]", "focusin", function (e, option) {
    if (e.target.matches("[data-tiers]")) selectPlan(option);
  });
})();
