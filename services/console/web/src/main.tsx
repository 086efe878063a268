import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { api, loginNeeded } from "./api.js";
import { CalibrationPage } from "./pages/calibration.js";
import { EnrollPage } from "./pages/enroll.js";
import { LivePage } from "./pages/live.js";
import { LoginPage } from "./pages/login.js";
import { SpeakersPage } from "./pages/speakers.js";
import { SystemPage } from "./pages/system.js";
import { UnknownPage } from "./pages/unknown.js";

const PAGES = [
  { hash: "speakers", title: "Speakers", Page: SpeakersPage },
  { hash: "enroll", title: "Enroll", Page: EnrollPage },
  { hash: "live", title: "Live", Page: LivePage },
  { hash: "unknown", title: "Unknown voices", Page: UnknownPage },
  { hash: "calibration", title: "Calibration", Page: CalibrationPage },
  { hash: "system", title: "System", Page: SystemPage },
] as const;

const current = () => location.hash.replace(/^#\/?/, "").split("?")[0] || "speakers";

function App() {
  const [route, setRoute] = useState(current());
  const [session, setSession] = useState<{ tokenRequired: boolean; signedIn: boolean } | undefined>();

  useEffect(() => {
    const onHash = () => setRoute(current());
    const onLogin = () => setSession((s) => ({ tokenRequired: true, signedIn: false, ...(s ? {} : {}) }));
    addEventListener("hashchange", onHash);
    // Effects run after the first paint: a #fragment set before this line fired its hashchange to nobody (the
    // console test's goto did, leaving the URL at #/enroll and the page on Speakers), so read it again now.
    onHash();
    loginNeeded.addEventListener("login", onLogin);
    api<{ tokenRequired: boolean; signedIn: boolean }>("GET", "/api/session").then(setSession, () =>
      setSession({ tokenRequired: false, signedIn: true }),
    );
    return () => {
      removeEventListener("hashchange", onHash);
      loginNeeded.removeEventListener("login", onLogin);
    };
  }, []);

  const page = PAGES.find((p) => p.hash === route) ?? PAGES[0];
  useEffect(() => {
    document.title = `${page.title} · Speakers`;
    document.getElementById("main")?.focus();
  }, [page]);

  if (session === undefined) return <p class="loading">Loading…</p>;
  if (session.tokenRequired && !session.signedIn) {
    return <LoginPage onSignedIn={() => setSession({ tokenRequired: true, signedIn: true })} />;
  }
  const { Page } = page;
  return (
    <>
      <header>
        <h1>Speakers</h1>
        <nav aria-label="Pages">
          <ul>
            {PAGES.map((p) => (
              <li key={p.hash}>
                <a href={`#/${p.hash}`} aria-current={p.hash === page.hash ? "page" : undefined}>
                  {p.title}
                </a>
              </li>
            ))}
          </ul>
        </nav>
      </header>
      <main id="main" tabIndex={-1}>
        <h2>{page.title}</h2>
        <Page />
      </main>
    </>
  );
}

const root = document.getElementById("app");
if (root) render(<App />, root);
