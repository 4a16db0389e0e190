// Hides the parts of a request form that the current answers do not ask for. Without this
// script every part is shown under its heading, and the server ignores what does not apply.
// A part holding an error is never hidden: the customer must see what to mend.
document.querySelectorAll("[data-shown-when]").forEach(function (part) {
  var form = part.closest("form");
  var name = part.getAttribute("data-shown-when");
  var answers = part.getAttribute("data-shown-answers").split(" ");
  var inputs = form.querySelectorAll('[name="' + name + '"]');
  function given() {
    var values = [];
    inputs.forEach(function (input) {
      if (input.tagName === "SELECT" || input.checked) { values.push(input.value); }
    });
    return values.length ? values : [""];
  }
  function update() {
    part.hidden = !part.querySelector(".has-error") &&
      !given().some(function (value) { return answers.indexOf(value) >= 0; });
  }
  inputs.forEach(function (input) { input.addEventListener("change", update); });
  update();
});
