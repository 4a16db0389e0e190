// Staff pages: queue shortcuts (j/k move, o opens, a claims) and who else has a ticket open.
// An external file, since the Content-Security-Policy forbids inline script.
(function () {
  "use strict";

  function typing(event) {
    var tag = (event.target.tagName || "").toLowerCase();
    return tag === "input" || tag === "textarea" || tag === "select" || event.target.isContentEditable;
  }

  function queueShortcuts(table) {
    var rows = Array.prototype.slice.call(table.querySelectorAll("tbody tr"));
    var index = -1;
    function select(next) {
      if (!rows.length) { return; }
      if (index >= 0) { rows[index].classList.remove("selected"); }
      index = Math.max(0, Math.min(rows.length - 1, next));
      rows[index].classList.add("selected");
      rows[index].querySelector("a").focus();
    }
    document.addEventListener("keydown", function (event) {
      if (typing(event) || event.ctrlKey || event.metaKey || event.altKey) { return; }
      if (event.key === "j") { select(index + 1); }
      else if (event.key === "k") { select(index - 1); }
      else if (event.key === "o" && index >= 0) { rows[index].querySelector("a").click(); }
      else if (event.key === "a" && index >= 0) {
        var form = document.getElementById("claim-form");
        form.action = form.dataset.actionTemplate.replace("REF", rows[index].dataset.ticket);
        form.querySelector("[name=row_version]").value = rows[index].dataset.version;
        form.submit();
      }
    });
  }

  function presence(box) {
    function poll() {
      fetch(box.dataset.url, { credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (data) {
          if (!data) { return; }
          var text = data.others.length ? "Also open by " + data.others.join(", ") + "." : "";
          if (String(data.row_version) !== box.dataset.version) {
            text += " This ticket changed since you opened it: reload before you act.";
          }
          box.textContent = text;
        })
        .catch(function () {});
    }
    setInterval(poll, 20000);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var table = document.getElementById("queue");
    if (table) { queueShortcuts(table); }
    var box = document.getElementById("presence");
    if (box) { presence(box); }
  });
})();
