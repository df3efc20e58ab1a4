// Turns the escaped TeX that courses/rendering.py leaves in .math elements into MathML.
// MathML output needs no inline styles (allowed by the CSP) and no web fonts (offline).
(function () {
  function render(root) {
    if (!window.katex) return;
    root.querySelectorAll(".math:not([data-rendered])").forEach((el) => {
      const display = el.classList.contains("math-display");
      let tex = el.textContent.trim();
      tex = tex.replace(/^\\[\(\[]/, "").replace(/\\[\)\]]$/, "");
      try {
        window.katex.render(tex, el, { displayMode: display, output: "mathml", throwOnError: false, trust: false, maxSize: 50, maxExpand: 500 });
      } catch (error) {
        el.textContent = tex; // leave readable TeX rather than nothing
      }
      el.setAttribute("data-rendered", "");
    });
  }
  document.addEventListener("DOMContentLoaded", () => render(document));
  document.addEventListener("htmx:afterSettle", (event) => render(event.detail.elt || document));
})();
