// Recent calls, kept in this browser (localStorage), newest first.
"use strict";
(function (root) {
  const KEY = "softswitch.recent";
  const MAX = 20;

  function load(storage) {
    try {
      const list = JSON.parse(storage.getItem(KEY) || "[]");
      return Array.isArray(list) ? list.slice(0, MAX) : [];
    } catch (e) {
      return []; // a damaged entry is dropped, not fatal
    }
  }

  // add records {number, direction: "in"|"out", outcome, at (ms), seconds}.
  function add(storage, entry) {
    const list = [entry, ...load(storage)].slice(0, MAX);
    try {
      storage.setItem(KEY, JSON.stringify(list));
    } catch (e) {
      // storage full or disabled: the list lives only in this page
    }
    return list;
  }

  function render(ul, list, onPick) {
    ul.textContent = "";
    for (const c of list) {
      const li = document.createElement("li");
      const b = document.createElement("button");
      b.type = "button";
      b.className = "link";
      b.textContent = (c.direction === "in" ? "← " : "→ ") + c.number;
      b.setAttribute("aria-label", (c.direction === "in" ? "Call back " : "Call again ") + c.number);
      b.addEventListener("click", () => onPick(c.number));
      const when = new Date(c.at);
      li.append(b, " " + when.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) + " · " + c.outcome);
      ul.append(li);
    }
  }

  root.recent = { load, add, render };
})(window);
