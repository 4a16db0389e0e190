// Hides the parts of a request form that the current answer does not ask for. Without this
// script every part is shown under its heading, and the server ignores what does not apply.
document.querySelectorAll("[data-shown-when]").forEach(function (part) {
  var form = part.closest("form");
  var name = part.getAttribute("data-shown-when");
  var answers = part.getAttribute("data-shown-answers").split(" ");
  function answer() {
    var checked = form.querySelector('[name="' + name + '"]:checked');
    var select = form.querySelector('select[name="' + name + '"]');
    return checked ? checked.value : select ? select.value : "";
  }
  function update() { part.hidden = answers.indexOf(answer()) < 0; }
  form.querySelectorAll('[name="' + name + '"]').forEach(function (input) {
    input.addEventListener("change", update);
  });
  update();
});
