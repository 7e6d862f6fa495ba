import { useState } from "preact/hooks";
import { ErrorNote } from "../components/bits.tsx";

export function LoginPage(props: { onLogin: (username: string, password: string) => Promise<void> }) {
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await props.onLogin(username, password);
    } catch (err) {
      const status = (err as { status?: number }).status;
      setError(status === 401 ? "Wrong username or password." : (err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="login">
      <form class="stack card" onSubmit={submit} aria-labelledby="login-h">
        <h1 id="login-h">Gantry</h1>
        <p class="muted">Log in with your Gantry user account.</p>
        <label>
          Username
          <input
            name="username"
            required
            autocomplete="username"
            value={username}
            onInput={(e) => setUsername(e.currentTarget.value)}
          />
        </label>
        <label>
          Password
          <input
            name="password"
            type="password"
            required
            autocomplete="current-password"
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
          />
        </label>
        <ErrorNote error={error} />
        <button type="submit" disabled={busy}>
          {busy ? "Logging in…" : "Log in"}
        </button>
        <p class="muted small">
          <code>npm start</code> prints the first admin's password and writes it to <code>.gantry/bootstrap.json</code>.
        </p>
      </form>
    </main>
  );
}
