/**
 * Exit codes of the agent (the `done` promise, and the process): 0 clean stop, 1 error or forced
 * stop, 2 usage, 3 identity revoked or refused. 75 (EX_TEMPFAIL): a server command asked for a
 * restart; the supervisor (`gantry agent`, systemd, launchd) starts the agent again.
 */
export const EXIT = { ok: 0, error: 1, usage: 2, revoked: 3, restart: 75 } as const;

export const REENROL_HINT =
  "To enrol again: delete the agent config file and run `gantry agent --server URL --key <enrolment key>`.";
