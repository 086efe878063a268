import { useState } from "preact/hooks";
import { api, type ErrorPayload, errorOf } from "../api.js";
import { ErrorBox } from "../ui.js";

/** Trades the console token for an HttpOnly session cookie. */
export function LoginPage({ onSignedIn }: { onSignedIn: () => void }) {
  const [token, setToken] = useState("");
  const [error, setError] = useState<ErrorPayload>();
  const submit = async (e: Event) => {
    e.preventDefault();
    try {
      await api("POST", "/api/login", { token });
      onSignedIn();
    } catch (err) {
      setError(errorOf(err));
    }
  };
  return (
    <main id="main" class="login">
      <h1>Speakers</h1>
      <form onSubmit={submit}>
        <label for="token">Console token</label>
        <input
          id="token"
          type="password"
          autocomplete="current-password"
          value={token}
          onInput={(e) => setToken(e.currentTarget.value)}
          required
        />
        <button type="submit">Sign in</button>
      </form>
      <ErrorBox error={error} />
    </main>
  );
}
