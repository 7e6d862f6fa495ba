import { useEffect, useMemo, useState } from "preact/hooks";
import { AdminPage } from "./pages/admin.tsx";
import { FleetPage } from "./pages/fleet.tsx";
import { JobPage } from "./pages/job.tsx";
import { JobsPage } from "./pages/jobs.tsx";
import { LoginPage } from "./pages/login.tsx";
import { OverviewPage } from "./pages/overview.tsx";
import { fleetStore } from "./state/fleet.ts";
import { jobsStore } from "./state/jobs.ts";
import { Live, type LiveState } from "./state/live.ts";
import { login, logout, resume, type Session } from "./state/session.ts";

const ORIGIN = window.location.origin;

/** Routes live in the hash (`#/jobs/<id>`), so the server serves one page and never shadows the API. */
function useRoute(): string {
  const [hash, setHash] = useState(window.location.hash.slice(1) || "/");
  useEffect(() => {
    const on = () => setHash(window.location.hash.slice(1) || "/");
    window.addEventListener("hashchange", on);
    return () => window.removeEventListener("hashchange", on);
  }, []);
  return hash;
}

export function App() {
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  useEffect(() => {
    resume(ORIGIN).then((s) => setSession(s ?? null));
  }, []);
  if (session === undefined) return <p class="loading">Loading…</p>;
  if (session === null) return <LoginPage onLogin={async (u, p) => setSession(await login(ORIGIN, u, p))} />;
  return (
    <LoggedIn
      session={session}
      onLogout={async () => {
        await logout(session);
        setSession(null);
      }}
    />
  );
}

interface Live_ {
  live: Live;
  fleet: ReturnType<typeof fleetStore>;
  jobs: ReturnType<typeof jobsStore>;
}

function LoggedIn(props: { session: Session; onLogout: () => Promise<void> }) {
  const { session } = props;
  const route = useRoute();
  const [ctx, setCtx] = useState<Live_ | null>(null);
  const [liveState, setLiveState] = useState<LiveState>("connecting");
  useEffect(() => {
    let live: Live | undefined;
    let gone = false;
    void Live.open(session).then((l) => {
      if (gone) return l.close();
      live = l;
      l.onState(setLiveState);
      setCtx({ live: l, fleet: fleetStore(session, l), jobs: jobsStore(session, l) });
    });
    return () => {
      gone = true;
      live?.close();
    };
  }, [session]);

  const nav = useMemo(
    () =>
      [
        ["/", "Overview"],
        ["/fleet", "Fleet"],
        ["/jobs", "Jobs"],
        ...(session.me.isAdmin || session.can("keys:manage") ? [["/admin", "Admin"]] : []),
      ] as [string, string][],
    [session],
  );
  const section = `/${route.split("/")[1] ?? ""}`;
  const jobId = /^\/jobs\/([^/]+)$/.exec(route)?.[1];

  return (
    <>
      <button type="button" class="skip" onClick={() => document.getElementById("main")?.focus()}>
        Skip to content
      </button>
      <header class="top">
        <a class="brand" href="#/">
          Gantry
        </a>
        <nav aria-label="Main">
          <ul>
            {nav.map(([href, label]) => (
              <li key={href}>
                <a href={`#${href}`} aria-current={section === href ? "page" : undefined}>
                  {label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <span class={`live live-${liveState}`} role="status" title="Live updates over MQTT-over-WebSocket">
          {liveState === "live" ? "● live" : liveState}
        </span>
        <span class="who">{session.me.username}</span>
        <button type="button" class="small" onClick={() => void props.onLogout()}>
          Log out
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        {!ctx ? (
          <p>Connecting…</p>
        ) : jobId ? (
          <JobPage id={jobId} session={session} live={ctx.live} />
        ) : section === "/fleet" ? (
          <FleetPage session={session} fleet={ctx.fleet.store} />
        ) : section === "/jobs" ? (
          <JobsPage jobs={ctx.jobs.store} />
        ) : section === "/admin" ? (
          <AdminPage session={session} />
        ) : (
          <OverviewPage jobs={ctx.jobs.store} fleet={ctx.fleet.store} />
        )}
      </main>
    </>
  );
}
