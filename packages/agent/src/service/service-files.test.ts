import assert from "node:assert/strict";
import { test } from "node:test";
import { launchdPlist, serviceFilePath, systemdUnit } from "./service-files.ts";

const spec = {
  execPath: "/usr/bin/node",
  args: ["/opt/gantry/bin/gantry.js", "agent", "--config", "/home/u/My Agent/agent.json"],
  workingDirectory: "/home/u",
  user: "gantry",
  stopTimeoutSecs: 90,
  logFile: "/Users/u/Library/Logs/gantry-agent.log",
};

test("systemd user unit: restarts on failure, drains on SIGTERM, quotes paths with spaces", () => {
  const unit = systemdUnit(spec, "user");
  assert.match(unit, /^\[Unit\]\n/);
  assert.match(
    unit,
    /\nExecStart=\/usr\/bin\/node \/opt\/gantry\/bin\/gantry\.js agent --config "\/home\/u\/My Agent\/agent\.json"\n/,
  );
  assert.match(unit, /\nRestart=on-failure\n/);
  assert.match(unit, /\nRestartPreventExitStatus=2 3\n/);
  assert.match(unit, /\nKillSignal=SIGTERM\n/);
  assert.match(unit, /\nTimeoutStopSec=90\n/);
  assert.match(unit, /\nWantedBy=default\.target\n/);
  assert.doesNotMatch(unit, /User=/, "a user unit runs as that user already");
});

test("systemd system unit: User= and multi-user.target", () => {
  const unit = systemdUnit(spec, "system");
  assert.match(unit, /\nUser=gantry\n/);
  assert.match(unit, /\nWantedBy=multi-user\.target\n/);
});

test("launchd plist: label, arguments one per string, KeepAlive on failure only, logs", () => {
  const plist = launchdPlist({ ...spec, args: [...spec.args, "--name", "a&b"] }, "user");
  assert.match(plist, /<key>Label<\/key>\n {2}<string>com\.gantry\.agent<\/string>/);
  assert.match(plist, /<string>\/home\/u\/My Agent\/agent\.json<\/string>/);
  assert.match(plist, /<string>a&amp;b<\/string>/);
  assert.match(plist, /<key>SuccessfulExit<\/key>\n {4}<false\/>/);
  assert.match(
    plist,
    /<key>StandardOutPath<\/key>\n {2}<string>\/Users\/u\/Library\/Logs\/gantry-agent\.log<\/string>/,
  );
  assert.match(plist, /<key>ExitTimeOut<\/key>\n {2}<integer>90<\/integer>/);
  assert.doesNotMatch(plist, /UserName/);
  assert.match(launchdPlist(spec, "system"), /<key>UserName<\/key>\n {2}<string>gantry<\/string>/);
});

test("service file locations", () => {
  assert.equal(serviceFilePath("linux", "user", "/home/u"), "/home/u/.config/systemd/user/gantry-agent.service");
  assert.equal(serviceFilePath("linux", "system", "/home/u"), "/etc/systemd/system/gantry-agent.service");
  assert.equal(serviceFilePath("darwin", "user", "/Users/u"), "/Users/u/Library/LaunchAgents/com.gantry.agent.plist");
  assert.equal(serviceFilePath("darwin", "system", "/Users/u"), "/Library/LaunchDaemons/com.gantry.agent.plist");
});
