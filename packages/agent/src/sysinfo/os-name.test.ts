import assert from "node:assert/strict";
import fs from "node:fs";
import { test } from "node:test";
import { archName, parseOsRelease, parseSwVers, parseWindowsCaption } from "./os-name.ts";

const fixture = (name: string) => fs.readFileSync(new URL(`./fixtures/${name}`, import.meta.url), "utf8");

test("Linux: /etc/os-release PRETTY_NAME", () => {
  assert.deepEqual(parseOsRelease(fixture("os-release-ubuntu.txt")), { name: "Ubuntu 22.04.3 LTS", version: "22.04" });
  assert.equal(parseOsRelease(fixture("os-release-fedora.txt"))?.name, "Fedora Linux 38 (Workstation Edition)");
  assert.deepEqual(parseOsRelease('NAME="Alpine"\nVERSION_ID=3.19\n'), { name: "Alpine 3.19", version: "3.19" });
  assert.equal(parseOsRelease(""), null);
});

test("macOS: sw_vers → macOS 14.0", () => {
  assert.deepEqual(parseSwVers(fixture("sw-vers-14.txt")), { name: "macOS 14.0", version: "14.0" });
});

test("Windows: caption → Windows 11 Pro / Windows 10 Home", () => {
  assert.equal(parseWindowsCaption(fixture("windows-caption-11pro.txt"))?.name, "Windows 11 Pro");
  assert.equal(parseWindowsCaption(fixture("windows-wmic-10home.txt"))?.name, "Windows 10 Home");
});

test("arch names follow the seed", () => {
  assert.equal(archName("x64"), "x86_64");
  assert.equal(archName("arm64"), "arm64");
  assert.equal(archName("ia32"), "i686");
});
