// The product's own behaviour. No inline scripts: everything lives here.
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form.dataset && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
    event.preventDefault();
  }
});

// Booking and waitlist forms: choosing a patient from the search results.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-choose-patient]");
  if (!button) return;
  const form = button.closest("form");
  const input = form && form.querySelector("input[name='patient']");
  if (!input) return;
  input.value = button.dataset.choosePatient;
  const selected = form.querySelector("#selected-patient");
  if (selected) {
    selected.replaceChildren();
    const note = document.createElement("div");
    note.className = "alert alert-secondary py-2 mb-0";
    note.textContent = `Booking for ${button.dataset.patientLabel}`;
    selected.appendChild(note);
  }
  const choices = form.querySelector("#patient-choices");
  if (choices) choices.replaceChildren();
});
