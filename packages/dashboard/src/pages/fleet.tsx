import type { AgentView, CommandType } from "@gantry/protocol";
import { CommandView } from "@gantry/protocol";
import { useState } from "preact/hooks";
import { StatusBadge } from "../components/bits.tsx";
import { Sparkline } from "../components/sparkline.tsx";
import { mb, percent, since } from "../format.ts";
import { type FleetState, type GpuSample, HISTORY } from "../state/fleet.ts";
import type { Session } from "../state/session.ts";
import { type Store, useNow, useStore } from "../state/store.ts";

export function agentStatus(a: AgentView): "idle" | "busy" | "draining" | "offline" | "error" {
  if (a.revokedAt || !a.online) return "offline";
  return a.status ?? "idle";
}

export function FleetPage(props: { session: Session; fleet: Store<FleetState> }) {
  const fleet = useStore(props.fleet);
  const agents = [...fleet.agents].sort((a, b) => Number(b.online) - Number(a.online) || a.id.localeCompare(b.id));
  const online = agents.filter((a) => a.online).length;
  return (
    <section aria-labelledby="fleet-h">
      <h1 id="fleet-h">Fleet</h1>
      <p class="muted">
        {online} of {agents.length} agents online
      </p>
      {fleet.error ? <p class="error">{fleet.error}</p> : null}
      {fleet.loaded && agents.length === 0 ? (
        <p>
          No agent has registered yet. Start one with <code>gantry agent</code>.
        </p>
      ) : null}
      <ul class="cards" aria-label="Agents">
        {agents.map((a) => (
          <AgentCard key={a.id} agent={a} history={fleet.history.get(a.id)} session={props.session} />
        ))}
      </ul>
    </section>
  );
}

function AgentCard(props: { agent: AgentView; history: Map<number, GpuSample[]> | undefined; session: Session }) {
  const { agent: a, session } = props;
  const now = useNow(5000);
  const [busy, setBusy] = useState<string | null>(null);
  const [note, setNote] = useState<string | null>(null);
  const status = agentStatus(a);
  const info = a.systemInfo;
  const gpus = info.gpus ?? (info.gpu ? [info.gpu] : []);
  const name = a.displayName ?? a.name ?? info.hostname ?? a.id;
  const warnings = [...(a.health?.issues ?? []), ...(a.health?.warnings ?? [])];
  const manage = session.can("agents:manage") && !a.revokedAt;

  const command = async (type: CommandType) => {
    setBusy(type);
    setNote(null);
    try {
      const c = await session.api("POST", `/v1/agents/${encodeURIComponent(a.id)}/commands`, CommandView, { type });
      setNote(`${type} sent (${c.status})`);
    } catch (err) {
      setNote(`${type} failed: ${(err as Error).message}`);
    } finally {
      setBusy(null);
    }
  };
  const revoke = async () => {
    if (!confirm(`Revoke agent ${name}? It is disconnected and can no longer authenticate.`)) return;
    setBusy("revoke");
    try {
      await session.admin.revokeAgent(a.id);
      setNote("revoked");
    } catch (err) {
      setNote(`revoke failed: ${(err as Error).message}`);
    } finally {
      setBusy(null);
    }
  };

  return (
    <li class={`card agent agent-${status}`} data-agent-id={a.id} aria-labelledby={`agent-${a.id}`}>
      <header class="card-head">
        <h2 id={`agent-${a.id}`} class="card-title" title={a.id}>
          {name}
        </h2>
        <StatusBadge status={status} />
      </header>
      <dl class="facts">
        <dt>Tier</dt>
        <dd>{a.tier}</dd>
        <dt>Capacity</dt>
        <dd>
          {a.runningJobs.length}/{a.capacity} busy
        </dd>
        <dt>OS</dt>
        <dd>{[info.os ?? info.platform, info.osVersion, info.arch].filter(Boolean).join(" ") || "–"}</dd>
        <dt>CPU</dt>
        <dd>
          {info.cpu?.model ?? "–"}
          {info.cpu?.cores ? ` · ${info.cpu.cores} cores` : ""}
          {a.metrics?.cpuPercent !== undefined ? ` · ${percent(a.metrics.cpuPercent)}` : ""}
        </dd>
        <dt>RAM</dt>
        <dd>
          {a.metrics?.memoryUsedMb !== undefined ? `${mb(a.metrics.memoryUsedMb)} / ` : ""}
          {mb(a.metrics?.memoryTotalMb ?? info.memoryMb)}
        </dd>
        <dt>Seen</dt>
        <dd>{a.online ? "now" : `${since(a.lastSeenAt, now)} ago`}</dd>
      </dl>
      {gpus.length > 0 ? (
        <ul class="gpus" aria-label="GPUs">
          {gpus.map((g, i) => {
            const live = a.metrics?.gpus?.find((x) => x.index === i);
            const used = live?.memoryUsedMb ?? g.memoryUsedMb;
            const util = live?.utilizationPercent ?? g.utilizationPercent;
            const samples = props.history?.get(i) ?? [];
            return (
              <li class="gpu" key={i} data-gpu-index={i}>
                <div class="gpu-model">
                  GPU {i}: {g.model}
                </div>
                <div class="gpu-row">
                  <span class="gpu-fig">
                    VRAM{" "}
                    <strong class="gpu-vram">
                      {mb(used)} / {mb(g.vramMb)}
                    </strong>
                  </span>
                  <Sparkline
                    slots={HISTORY}
                    values={samples.map((s) => s.memoryUsedMb)}
                    max={g.vramMb ?? 1}
                    label={`GPU ${i} VRAM used, last ${samples.length} heartbeats`}
                  />
                </div>
                <div class="gpu-row">
                  <span class="gpu-fig">
                    Util <strong class="gpu-util">{percent(util)}</strong>
                  </span>
                  <Sparkline
                    slots={HISTORY}
                    values={samples.map((s) => s.utilizationPercent)}
                    max={100}
                    label={`GPU ${i} utilisation, last ${samples.length} heartbeats`}
                  />
                </div>
              </li>
            );
          })}
        </ul>
      ) : null}
      <details class="caps">
        <summary>{a.capabilities.length} capabilities</summary>
        <ul class="tags">
          {a.capabilities.map((c) => (
            <li key={c}>
              <code>{c}</code>
            </li>
          ))}
        </ul>
      </details>
      {warnings.length > 0 ? (
        <ul class="warnings" aria-label="Health warnings">
          {warnings.map((w) => (
            <li key={w}>⚠ {w}</li>
          ))}
        </ul>
      ) : null}
      {manage ? (
        <div class="actions">
          {status === "draining" ? (
            <button type="button" disabled={busy !== null || !a.online} onClick={() => command("resume")}>
              Resume
            </button>
          ) : (
            <button type="button" disabled={busy !== null || !a.online} onClick={() => command("drain")}>
              Drain
            </button>
          )}
          <button type="button" disabled={busy !== null || !a.online} onClick={() => command("rescan")}>
            Rescan
          </button>
          <button type="button" class="danger" disabled={busy !== null} onClick={revoke}>
            Revoke
          </button>
        </div>
      ) : null}
      {note ? (
        <p class="note" role="status">
          {note}
        </p>
      ) : null}
    </li>
  );
}
