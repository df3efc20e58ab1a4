// Streams the tutor's messages into the page: each element with data-stream opens a
// server-sent event source, shows the text as it is written, and when the message is done
// swaps in its final form from the server (rendered math, the note when the course's own
// text is shown, the rating buttons). No inline scripts: the CSP forbids them.
(function () {
  function finish(el, url) {
    if (window.htmx) {
      window.htmx.ajax("GET", url, { target: el, swap: "outerHTML" });
    }
  }

  function start(el) {
    if (el.dataset.streaming) return;
    el.dataset.streaming = "1";
    const out = el.querySelector(".tutor-stream");
    const typing = el.querySelector(".typing");
    const source = new EventSource(el.dataset.stream);
    source.addEventListener("text", (event) => {
      if (typing) typing.hidden = true;
      out.textContent += JSON.parse(event.data);
    });
    source.addEventListener("done", (event) => {
      source.close();
      finish(el, JSON.parse(event.data));
    });
    source.onerror = () => {
      // The connection dropped before "done": ask for the message as it stands.
      source.close();
      finish(el, el.dataset.final);
    };
  }

  function scan(root) {
    if (!root.querySelectorAll) return;
    if (root.matches && root.matches("[data-stream]")) start(root);
    root.querySelectorAll("[data-stream]").forEach(start);
  }

  document.addEventListener("DOMContentLoaded", () => scan(document));
  document.addEventListener("htmx:afterSettle", (event) => scan(event.detail.elt || document));
})();
