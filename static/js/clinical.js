// Clinical pages: ICD-10 helper, live strength asymmetry, Kujala running total.
// Progressive enhancement only: the server computes and checks everything again.

document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-icd10-choose]");
  if (!button) return;
  const form = button.closest("form");
  const code = form && form.querySelector("[data-icd10-code]");
  if (!code) return;
  code.value = button.dataset.icd10Choose;
  const diagnosis = form.querySelector("input[name='diagnosis']");
  if (diagnosis && !diagnosis.value.trim()) diagnosis.value = button.dataset.icd10Display;
  const side = form.querySelector("[data-icd10-side]");
  const wanted = button.dataset.icd10ForSide;
  if (side && (wanted === "right" || wanted === "left")) side.value = wanted;
  code.focus();
});

function asymmetryText(row) {
  const test = row.querySelector("select[name$='-test']");
  const left = row.querySelector("input[data-side='left']");
  const right = row.querySelector("input[data-side='right']");
  if (!test || !left || !right || !/strength/.test(test.value)) return "";
  const l = Number.parseFloat(left.value);
  const r = Number.parseFloat(right.value);
  if (!Number.isFinite(l) || !Number.isFinite(r) || l < 0 || r < 0) return "";
  const stronger = Math.max(l, r);
  if (stronger === 0) return "";
  return `${(Math.round((Math.abs(l - r) / stronger) * 1000) / 10).toFixed(1)} %`;
}

document.addEventListener("input", (event) => {
  const row = event.target.closest("[data-asymmetry-row]");
  if (!row) return;
  const output = row.querySelector("[data-asymmetry]");
  if (output) output.textContent = asymmetryText(row);
});

function kujalaTotal(container) {
  const groups = new Set();
  container.querySelectorAll("input[type='radio']").forEach((radio) => groups.add(radio.name));
  let total = 0;
  let answered = 0;
  groups.forEach((name) => {
    const checked = container.querySelector(`input[type='radio'][name='${name}']:checked`);
    if (!checked) return;
    const label = container.querySelector(`label[for='${checked.id}']`);
    const match = label && label.textContent.match(/\((\d+)\)\s*$/);
    if (match) {
      total += Number.parseInt(match[1], 10);
      answered += 1;
    }
  });
  return answered === groups.size && groups.size > 0
    ? `${total} / 100`
    : `${answered} of ${groups.size} answered`;
}

document.addEventListener("change", (event) => {
  const container = event.target.closest("[data-kujala]");
  if (!container) return;
  const output = document.querySelector("[data-kujala-total]");
  if (output) output.textContent = kujalaTotal(container);
});
