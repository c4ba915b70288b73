// pacsbox explorer: upload, find, browse, download and delete studies through the REST and DICOMweb APIs.
"use strict";

const API = new URL("../", window.location.href); // `/zhiva/` behind nginx, `/` when served directly
const TOKEN_KEY = "pacsbox.token";
const PAGE_SIZE = 50;
const PARALLEL_UPLOADS = 3;

const $ = (selector) => document.querySelector(selector);

function readToken() {
  // `?token=` or `#upload?token=` (the form of the links the admin page hands out), once; then sessionStorage.
  const fromQuery = new URLSearchParams(window.location.search).get("token");
  const hash = window.location.hash;
  const fromHash = hash.includes("?") ? new URLSearchParams(hash.slice(hash.indexOf("?") + 1)).get("token") : null;
  const token = fromQuery || fromHash;
  if (token) {
    sessionStorage.setItem(TOKEN_KEY, token);
    const url = new URL(window.location.href);
    url.searchParams.delete("token");
    url.hash = hash.split("?")[0];
    history.replaceState(null, "", url);
  }
  return sessionStorage.getItem(TOKEN_KEY);
}

const token = readToken();

function showMessage(text, kind = "error") {
  const box = $("#message");
  box.textContent = text;
  box.className = kind === "info" ? "info" : "";
  box.hidden = !text;
}

async function api(path, options = {}) {
  const headers = new Headers(options.headers || {});
  if (token) headers.set("Authorization", `Bearer ${token}`);
  const response = await fetch(new URL(path, API), { ...options, headers });
  if (response.status === 401) throw new Error("Not signed in, or the token expired: open the link from your administrator again.");
  if (response.status === 403) throw new Error("This token may not do that (read-only, or revoked).");
  if (!response.ok) {
    let detail = response.statusText;
    try { detail = (await response.json()).error || detail; } catch (_) { /* not JSON */ }
    throw new Error(`${response.status}: ${detail}`);
  }
  return response;
}

function tagValue(item, tag) {
  const element = item[tag];
  if (!element || !element.Value || !element.Value.length) return "";
  const value = element.Value[0];
  if (typeof value === "object" && value !== null) return value.Alphabetic || "";
  return element.Value.join(", ");
}

function formatDate(value) {
  return /^\d{8}$/.test(value) ? `${value.slice(0, 4)}-${value.slice(4, 6)}-${value.slice(6)}` : value;
}

function cell(row, text) {
  const td = document.createElement("td");
  td.textContent = text;
  row.appendChild(td);
  return td;
}

// Orthanc's study ID: SHA-1 of "PatientID|StudyInstanceUID", as five dash-separated groups of eight hex digits.
async function orthancStudyId(patientId, studyUid) {
  const digest = await crypto.subtle.digest("SHA-1", new TextEncoder().encode(`${patientId.trim()}|${studyUid.trim()}`));
  const hex = Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
  return hex.match(/.{8}/g).join("-");
}

// ---------------------------------------------------------------- views

function showView() {
  const name = (window.location.hash.split("?")[0] || "#find-studies").slice(1);
  const view = ["upload", "find-studies"].includes(name) ? name : "find-studies";
  for (const section of document.querySelectorAll("main > section")) section.hidden = section.id !== `view-${view}`;
  for (const link of document.querySelectorAll("nav a")) link.classList.toggle("active", link.dataset.view === view);
  if (view === "find-studies" && !$("#studies tbody").children.length) search(0);
}

// ---------------------------------------------------------------- upload

let selected = [];

function select(files) {
  selected = Array.from(files).filter((file) => file.size > 0);
  $("#selection").textContent = selected.length
    ? `${selected.length} file(s) selected, ${(selected.reduce((n, f) => n + f.size, 0) / 1048576).toFixed(1)} MB.`
    : "No file selected.";
  $("#start-upload").disabled = !selected.length;
}

async function filesFromDrop(items) {
  const files = [];
  async function walk(entry) {
    if (entry.isFile) {
      files.push(await new Promise((resolve, reject) => entry.file(resolve, reject)));
    } else if (entry.isDirectory) {
      const reader = entry.createReader();
      let batch;
      do {
        batch = await new Promise((resolve, reject) => reader.readEntries(resolve, reject));
        for (const child of batch) await walk(child);
      } while (batch.length);
    }
  }
  for (const item of items) {
    const entry = item.webkitGetAsEntry && item.webkitGetAsEntry();
    if (entry) await walk(entry);
  }
  return files;
}

function uploadResult(file, text, ok) {
  const row = document.createElement("tr");
  cell(row, file.webkitRelativePath || file.name);
  cell(row, text).className = ok ? "stored" : "failed";
  $("#upload-results tbody").appendChild(row);
  $("#upload-results").hidden = false;
}

async function uploadOne(file, counts) {
  try {
    const response = await api("instances", { method: "POST", body: file, headers: { "Content-Type": "application/dicom" } });
    const answer = await response.json();
    for (const item of Array.isArray(answer) ? answer : [answer]) {
      if (item.Status === "Failure") {
        counts.failed += 1;
        uploadResult(file, `${item.Name}: ${item.Error}`, false);
      } else {
        counts[item.Status === "AlreadyStored" ? "already" : "stored"] += 1;
      }
    }
  } catch (error) {
    counts.failed += 1;
    uploadResult(file, error.message, false);
  }
}

async function startUpload() {
  const files = selected;
  const counts = { stored: 0, already: 0, failed: 0 };
  const progress = $("#upload-progress");
  $("#start-upload").disabled = true;
  $("#upload-results tbody").replaceChildren();
  $("#upload-results").hidden = true;
  progress.hidden = false;
  progress.max = files.length;
  progress.value = 0;
  let next = 0;
  async function worker() {
    while (next < files.length) {
      const file = files[next++];
      await uploadOne(file, counts);
      progress.value += 1;
      $("#upload-summary").textContent =
        `${progress.value}/${files.length} files: ${counts.stored} stored, ${counts.already} already stored, ${counts.failed} rejected.`;
    }
  }
  await Promise.all(Array.from({ length: PARALLEL_UPLOADS }, worker));
  $("#upload-summary").textContent =
    `Done: ${counts.stored} stored, ${counts.already} already stored, ${counts.failed} rejected.`;
  select([]);
}

// ---------------------------------------------------------------- find studies

let offset = 0;
let latestSearch = 0; // only the answer to the newest search may fill the table

function searchParameters() {
  const form = new FormData($("#search"));
  const params = new URLSearchParams({ limit: String(PAGE_SIZE + 1), offset: String(offset), fuzzymatching: "false" });
  params.set("includefield", "StudyDescription");
  const name = form.get("PatientName").trim();
  if (name) params.set("PatientName", name.includes("*") ? name : `*${name}*`);
  for (const key of ["PatientID", "AccessionNumber", "StudyDescription"]) {
    const value = form.get(key).trim();
    if (value) params.set(key, key === "StudyDescription" && !value.includes("*") ? `*${value}*` : value);
  }
  const modalities = form.get("ModalitiesInStudy").trim().toUpperCase().replace(/\s+/g, "");
  if (modalities) params.set("ModalitiesInStudy", modalities);
  const from = form.get("from").replaceAll("-", "");
  const to = form.get("to").replaceAll("-", "");
  if (from || to) params.set("StudyDate", from === to ? from : `${from}-${to}`);
  return params;
}

async function search(startAt) {
  offset = Math.max(0, startAt);
  const thisSearch = ++latestSearch;
  showMessage("");
  try {
    const response = await api(`pacs/studies?${searchParameters()}`, { headers: { Accept: "application/dicom+json" } });
    const studies = response.status === 204 ? [] : await response.json();
    if (thisSearch !== latestSearch) return; // a newer search was started while this one was on its way
    renderStudies(studies.slice(0, PAGE_SIZE));
    $("#previous").disabled = offset === 0;
    $("#next").disabled = studies.length <= PAGE_SIZE;
    $("#page").textContent = studies.length
      ? ` studies ${offset + 1}-${offset + Math.min(studies.length, PAGE_SIZE)} `
      : " no study matches ";
  } catch (error) {
    if (thisSearch === latestSearch) showMessage(error.message);
  }
}

function renderStudies(studies) {
  const body = $("#studies tbody");
  body.replaceChildren();
  for (const study of studies) {
    const uid = tagValue(study, "0020000D");
    const row = document.createElement("tr");
    row.dataset.studyUid = uid;
    cell(row, tagValue(study, "00100010"));
    cell(row, tagValue(study, "00100020"));
    cell(row, formatDate(tagValue(study, "00100030")));
    cell(row, formatDate(tagValue(study, "00080020")));
    cell(row, tagValue(study, "00081030"));
    cell(row, tagValue(study, "00080061"));
    cell(row, tagValue(study, "00201206"));
    cell(row, tagValue(study, "00201208"));
    const actions = cell(row, "");
    actions.className = "actions";
    actions.append(
      button("Series", "secondary", () => toggleSeries(row, uid)),
      link("Open in viewer", `${new URL("/viewer/viewer", window.location.href).pathname}?StudyInstanceUIDs=${encodeURIComponent(uid)}`),
      button("Download", "secondary", () => download(study)),
      button("Delete", "danger", () => remove(study, row)),
    );
    body.appendChild(row);
  }
}

function button(text, kind, onClick) {
  const element = document.createElement("button");
  element.type = "button";
  element.textContent = text;
  element.className = kind;
  element.addEventListener("click", onClick);
  return element;
}

function link(text, href) {
  const element = document.createElement("a");
  element.textContent = text;
  element.href = href;
  return element;
}

async function toggleSeries(row, uid) {
  if (row.dataset.seriesLoading) return; // clicked again while the series are on their way: they are shown once
  if (row.nextElementSibling && row.nextElementSibling.classList.contains("series")) {
    while (row.nextElementSibling && row.nextElementSibling.classList.contains("series")) row.nextElementSibling.remove();
    return;
  }
  row.dataset.seriesLoading = "yes";
  try {
    const response = await api(`pacs/studies/${encodeURIComponent(uid)}/series`, { headers: { Accept: "application/dicom+json" } });
    const series = response.status === 204 ? [] : await response.json();
    series.sort((a, b) => Number(tagValue(a, "00200011") || 0) - Number(tagValue(b, "00200011") || 0));
    let after = row;
    for (const item of series) {
      const line = document.createElement("tr");
      line.className = "series";
      const td = cell(line, `#${tagValue(item, "00200011")} ${tagValue(item, "00080060")} ${tagValue(item, "0008103E")}`
        + ` — ${tagValue(item, "00201209")} instance(s)`);
      td.colSpan = 9;
      after.after(line);
      after = line;
    }
  } catch (error) {
    showMessage(error.message);
  } finally {
    delete row.dataset.seriesLoading;
  }
}

async function download(study) {
  try {
    const id = await orthancStudyId(tagValue(study, "00100020"), tagValue(study, "0020000D"));
    const response = await api(`studies/${id}/archive`);
    const blob = await response.blob();
    const anchor = document.createElement("a");
    anchor.href = URL.createObjectURL(blob);
    anchor.download = `${tagValue(study, "00100020") || "study"}-${tagValue(study, "00080020") || "undated"}.zip`;
    anchor.click();
    URL.revokeObjectURL(anchor.href);
  } catch (error) {
    showMessage(error.message);
  }
}

async function remove(study, row) {
  const label = `${tagValue(study, "00100010")} ${formatDate(tagValue(study, "00080020"))} ${tagValue(study, "00081030")}`;
  if (!window.confirm(`Delete the study ${label} and all its images? This cannot be undone.`)) return;
  try {
    const id = await orthancStudyId(tagValue(study, "00100020"), tagValue(study, "0020000D"));
    await api(`studies/${id}`, { method: "DELETE" });
    while (row.nextElementSibling && row.nextElementSibling.classList.contains("series")) row.nextElementSibling.remove();
    row.remove();
    showMessage(`Deleted ${label}.`, "info");
  } catch (error) {
    showMessage(error.message);
  }
}

// ---------------------------------------------------------------- wiring

document.addEventListener("DOMContentLoaded", () => {
  $("#who").textContent = token ? "signed in with a token" : "no token: open the link from your administrator";
  $("#files").addEventListener("change", (event) => select(event.target.files));
  $("#folder").addEventListener("change", (event) => select(event.target.files));
  $("#start-upload").addEventListener("click", startUpload);
  const drop = $("#drop");
  drop.addEventListener("dragover", (event) => { event.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", async (event) => {
    event.preventDefault();
    drop.classList.remove("over");
    select(await filesFromDrop(event.dataTransfer.items));
  });
  $("#search").addEventListener("submit", (event) => { event.preventDefault(); search(0); });
  $("#previous").addEventListener("click", () => search(offset - PAGE_SIZE));
  $("#next").addEventListener("click", () => search(offset + PAGE_SIZE));
  window.addEventListener("hashchange", showView);
  showView();
});
