// The review pages' keyboard shortcuts, reveal re-blur and wellness timer.
// Progressive enhancement only: every action is also a plain link or form, and no key
// decides anything by itself (decisions are forms the reviewer submits).
"use strict";
(() => {
  const SESSION_START = "haven.review.started";
  const SESSION_COUNT = "haven.review.decided";
  const BREAK_UNTIL = "haven.review.breakUntil";

  const store = {
    get(key) {
      try { return window.sessionStorage.getItem(key); } catch (error) { return null; }
    },
    set(key, value) {
      try { window.sessionStorage.setItem(key, String(value)); } catch (error) { /* private mode */ }
    },
  };

  const typing = (target) => {
    if (!(target instanceof Element)) return false;
    return Boolean(target.closest("input, textarea, select, [contenteditable=''], [contenteditable=true]"));
  };

  const minutes = (value, fallback) => {
    const number = Number.parseFloat(value);
    return Number.isFinite(number) && number > 0 ? number : fallback;
  };

  const clock = (ms) => {
    const total = Math.max(0, Math.floor(ms / 1000));
    const h = Math.floor(total / 3600);
    const m = Math.floor((total % 3600) / 60);
    const s = String(total % 60).padStart(2, "0");
    return h ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
  };

  // --- wellness: review time, items decided, breaks -------------------------------------
  function wellness() {
    const panel = document.getElementById("review-wellness");
    if (!panel) return;
    const elapsed = document.getElementById("review-elapsed");
    const count = document.getElementById("review-count");
    const banner = document.getElementById("review-break-banner");
    const cover = document.getElementById("review-break-cover");
    const left = document.getElementById("review-break-left");
    let started = Number(store.get(SESSION_START));
    if (!started) {
      started = Date.now();
      store.set(SESSION_START, started);
    }
    count.textContent = String(Number(store.get(SESSION_COUNT)) || 0);
    let snoozedAt = started;

    const endBreak = () => {
      store.set(BREAK_UNTIL, 0);
      document.body.classList.remove("review-on-break");
      cover.hidden = true;
      started = Date.now();
      snoozedAt = started;
      store.set(SESSION_START, started);
    };
    const tick = () => {
      const now = Date.now();
      elapsed.textContent = clock(now - started);
      const until = Number(store.get(BREAK_UNTIL)) || 0;
      if (until > now) {
        document.body.classList.add("review-on-break");
        cover.hidden = false;
        banner.hidden = true;
        left.textContent = clock(until - now);
        return;
      }
      if (until) endBreak();
      // Read on every tick, so a node (or a test) can change the interval on the page.
      const interval = minutes(panel.dataset.breakMinutes, 20) * 60000;
      if (now - snoozedAt >= interval) banner.hidden = false;
    };
    document.getElementById("review-break-start").addEventListener("click", () => {
      const length = minutes(panel.dataset.breakLength, 5) * 60000;
      store.set(BREAK_UNTIL, Date.now() + length);
      tick();
    });
    document.getElementById("review-break-later").addEventListener("click", () => {
      banner.hidden = true;
      snoozedAt = Date.now();
    });
    document.getElementById("review-break-end").addEventListener("click", endBreak);
    for (const form of document.querySelectorAll("form[id^=review-][id$=-form]")) {
      if (!/confirm|escalate|false-positive/.test(form.id)) continue;
      form.addEventListener("submit", () => {
        store.set(SESSION_COUNT, (Number(store.get(SESSION_COUNT)) || 0) + 1);
      });
    }
    tick();
    window.setInterval(tick, 1000);
  }

  // --- the revealed file blurs again by itself --------------------------------------------
  function reblur() {
    const shown = document.getElementById("review-revealed");
    if (!shown) return;
    const item = document.getElementById("review-item");
    const seconds = minutes(item && item.dataset.revealSeconds, 120);
    const until = Date.parse(shown.dataset.until || "");
    const wait = Number.isFinite(until) ? Math.min(until - Date.now(), seconds * 1000) : seconds * 1000;
    window.setTimeout(hideRevealed, Math.max(0, wait));
  }

  function hideRevealed() {
    const shown = document.getElementById("review-revealed");
    if (!shown) return;
    shown.remove(); // the image element goes, not just its visibility
    const ended = document.getElementById("review-revealed-ended");
    if (ended) ended.hidden = false;
  }

  // --- keyboard shortcuts ------------------------------------------------------------------
  function shortcuts() {
    const help = document.getElementById("review-help");
    const toggle = document.getElementById("review-help-toggle");
    const showHelp = (show) => {
      if (!help) return;
      help.hidden = !show;
      if (toggle) toggle.setAttribute("aria-expanded", String(show));
    };
    if (toggle) toggle.addEventListener("click", () => showHelp(help.hidden));

    const item = document.getElementById("review-item");
    const queueLinks = () => Array.from(document.querySelectorAll("a.review-link"));
    const go = (url) => { if (url) window.location.assign(url); };
    const focus = (selector) => {
      const target = document.querySelector(selector);
      if (!target) return false;
      target.scrollIntoView({ block: "center" });
      target.focus();
      return true;
    };
    const submit = (id) => {
      const form = document.getElementById(id);
      if (form) form.requestSubmit();
    };
    const stepQueue = (step) => {
      const links = queueLinks();
      if (!links.length) return;
      const at = links.indexOf(document.activeElement);
      const next = at < 0 ? (step > 0 ? 0 : links.length - 1) : Math.min(links.length - 1, Math.max(0, at + step));
      links[next].focus();
    };

    document.addEventListener("keydown", (event) => {
      if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
      if (typing(event.target)) return;
      if (document.body.classList.contains("review-on-break") && event.key !== "?") return;
      const key = event.key;
      let handled = true;
      if (key === "?") showHelp(help ? help.hidden : false);
      else if (key === "Escape") showHelp(false);
      else if (!item && (key === "j" || key === "k")) stepQueue(key === "j" ? 1 : -1);
      else if (!item) handled = false;
      else if (key === "j") go(item.dataset.next);
      else if (key === "k") go(item.dataset.previous);
      else if (key === "r") submit("review-reveal-form");
      else if (key === "b") { hideRevealed(); submit("review-blur-form"); }
      else if (key === "c") handled = focus("#review-confirm-form input[name=classification]");
      else if (key === "e") handled = focus("#escalate-reason");
      else if (key === "f") handled = focus("#false-positive-note");
      else handled = false;
      if (handled) event.preventDefault();
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    wellness();
    reblur();
    shortcuts();
  });
})();
