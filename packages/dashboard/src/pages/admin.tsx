import {
  type ApiKey,
  type AuditEvent,
  type CreateApiKeyResponse,
  PERMISSIONS,
  type PermissionName,
  type User,
} from "@gantry/protocol";
import { useEffect, useState } from "preact/hooks";
import { ErrorNote } from "../components/bits.tsx";
import type { Session } from "../state/session.ts";

export function AdminPage(props: { session: Session }) {
  const { session } = props;
  // Bumped by every change made here, so the audit log shows it.
  const [changes, setChanges] = useState(0);
  const changed = () => setChanges((n) => n + 1);
  return (
    <section aria-labelledby="admin-h">
      <h1 id="admin-h">Admin</h1>
      {session.me.isAdmin ? <Users session={session} onChange={changed} /> : null}
      <Keys session={session} onChange={changed} />
      {session.me.isAdmin ? <Audit session={session} changes={changes} /> : null}
    </section>
  );
}

function Permissions(props: { name: string; value: PermissionName[]; onChange: (v: PermissionName[]) => void }) {
  return (
    <fieldset class="perms">
      <legend>Permissions</legend>
      {PERMISSIONS.map((p) => (
        <label key={p} class="check">
          <input
            type="checkbox"
            name={props.name}
            value={p}
            checked={props.value.includes(p)}
            onChange={(e) =>
              props.onChange(e.currentTarget.checked ? [...props.value, p] : props.value.filter((x) => x !== p))
            }
          />
          {p}
        </label>
      ))}
    </fieldset>
  );
}

function Users(props: { session: Session; onChange: () => void }) {
  const admin = props.session.admin;
  const [users, setUsers] = useState<User[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [perms, setPerms] = useState<PermissionName[]>(["jobs:read", "jobs:write"]);
  const load = () =>
    admin.listUsers({ limit: 200 }).then(
      (r) => setUsers(r.users),
      (e: Error) => setError(e.message),
    );
  useEffect(() => void load(), []);
  const create = async (e: Event) => {
    e.preventDefault();
    try {
      await admin.createUser({ username, password, permissions: perms });
      setUsername("");
      setPassword("");
      setError(null);
      props.onChange();
      await load();
    } catch (err) {
      setError((err as Error).message);
    }
  };
  const toggle = async (u: User) => {
    try {
      await admin.updateUser(u.id, { active: !u.active });
      props.onChange();
      await load();
    } catch (err) {
      setError((err as Error).message);
    }
  };
  return (
    <section aria-labelledby="users-h">
      <h2 id="users-h">Users</h2>
      <ErrorNote error={error} />
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">User</th>
              <th scope="col">Permissions</th>
              <th scope="col">State</th>
              <th scope="col">
                <span class="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {users.map((u) => (
              <tr key={u.id}>
                <td>
                  {u.username}
                  {u.isAdmin ? <span class="badge">admin</span> : null}
                </td>
                <td>{u.permissions.join(", ") || "–"}</td>
                <td>{u.active ? "active" : "disabled"}</td>
                <td>
                  {u.id !== props.session.me.id ? (
                    <button type="button" class="small" onClick={() => toggle(u)}>
                      {u.active ? "Disable" : "Enable"}
                    </button>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <details>
        <summary>Add a user</summary>
        <form class="stack" onSubmit={create}>
          <label>
            Username
            <input required value={username} onInput={(e) => setUsername(e.currentTarget.value)} autocomplete="off" />
          </label>
          <label>
            Password (12 characters or more)
            <input
              required
              type="password"
              minLength={12}
              value={password}
              onInput={(e) => setPassword(e.currentTarget.value)}
              autocomplete="new-password"
            />
          </label>
          <Permissions name="user-perm" value={perms} onChange={setPerms} />
          <button type="submit">Create user</button>
        </form>
      </details>
    </section>
  );
}

function Keys(props: { session: Session; onChange: () => void }) {
  const admin = props.session.admin;
  const [keys, setKeys] = useState<ApiKey[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [name, setName] = useState("");
  const [scopes, setScopes] = useState<PermissionName[]>(["jobs:read", "jobs:write"]);
  const [created, setCreated] = useState<CreateApiKeyResponse | null>(null);
  const load = () =>
    admin.listKeys({ limit: 200 }).then(
      (r) => setKeys(r.keys),
      (e: Error) => setError(e.message),
    );
  useEffect(() => void load(), []);
  const create = async (e: Event) => {
    e.preventDefault();
    try {
      setCreated(await admin.createKey({ name: name || undefined, scopes }));
      setName("");
      setError(null);
      props.onChange();
      await load();
    } catch (err) {
      setError((err as Error).message);
    }
  };
  const revoke = async (k: ApiKey) => {
    if (!confirm(`Revoke key ${k.name ?? k.prefix}?`)) return;
    try {
      await admin.revokeKey(k.id);
      props.onChange();
      await load();
    } catch (err) {
      setError((err as Error).message);
    }
  };
  return (
    <section aria-labelledby="keys-h">
      <h2 id="keys-h">API keys</h2>
      <ErrorNote error={error} />
      {created ? (
        <div class="secret" role="status">
          <p>
            Key <strong>{created.name ?? created.prefix}</strong> created. Copy it now: it is not shown again.
          </p>
          <output class="mono" data-testid="new-key">
            {created.key}
          </output>
          <div class="actions">
            <button type="button" onClick={() => void navigator.clipboard?.writeText(created.key)}>
              Copy
            </button>
            <button type="button" onClick={() => setCreated(null)}>
              Done
            </button>
          </div>
        </div>
      ) : null}
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Kind</th>
              <th scope="col">Prefix</th>
              <th scope="col">Scopes</th>
              <th scope="col">State</th>
              <th scope="col">
                <span class="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {keys.map((k) => {
              const revoked = k.revokedAt;
              return (
                <tr key={k.id}>
                  <td>{k.name ?? "–"}</td>
                  <td>{k.kind}</td>
                  <td class="mono">{k.prefix}…</td>
                  <td>{k.scopes.join(", ")}</td>
                  <td>{revoked ? "revoked" : "active"}</td>
                  <td>
                    {revoked ? null : (
                      <button type="button" class="small danger" onClick={() => revoke(k)}>
                        Revoke
                      </button>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <details>
        <summary>Create a key</summary>
        <form class="stack" onSubmit={create}>
          <label>
            Key name
            <input value={name} onInput={(e) => setName(e.currentTarget.value)} autocomplete="off" />
          </label>
          <Permissions name="key-scope" value={scopes} onChange={setScopes} />
          <button type="submit">Create key</button>
        </form>
      </details>
    </section>
  );
}

function Audit(props: { session: Session; changes: number }) {
  const admin = props.session.admin;
  const [events, setEvents] = useState<AuditEvent[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const more = async (after?: string) => {
    try {
      const page = await admin.audit({ limit: 50, ...(after ? { after } : {}) });
      setEvents((old) => (after ? [...old, ...page.events] : page.events));
      setNext(page.next);
    } catch (err) {
      setError((err as Error).message);
    }
  };
  useEffect(() => void more(), [props.changes]);
  return (
    <section aria-labelledby="audit-h">
      <h2 id="audit-h">Audit log</h2>
      <ErrorNote error={error} />
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Actor</th>
              <th scope="col">Action</th>
              <th scope="col">Target</th>
              <th scope="col">Details</th>
            </tr>
          </thead>
          <tbody>
            {events.map((e) => (
              <tr key={e.id}>
                <td>{new Date(e.at).toLocaleString()}</td>
                <td class="mono">{e.actor ?? "–"}</td>
                <td>{e.action}</td>
                <td class="mono">{e.target ?? "–"}</td>
                <td class="mono small details" title={e.details ? JSON.stringify(e.details) : undefined}>
                  {e.details ? JSON.stringify(e.details) : ""}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {next ? (
        <button type="button" onClick={() => more(next)}>
          Load more
        </button>
      ) : null}
    </section>
  );
}
