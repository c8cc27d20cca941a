import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { getSession, logout, onSession, role, switchOrg } from "./api";
import { Admin } from "./pages/Admin";
import { Alerts } from "./pages/Alerts";
import { Jobs } from "./pages/Jobs";
import { Login } from "./pages/Login";
import { Explorer } from "./pages/Explorer";
import { Streams } from "./pages/Streams";
import { Tail } from "./pages/Tail";
import "./style.css";

// Pages by hash (#/explore?..., #/streams): the binary serves one index.html for every /ui path.
function useHash() {
  const [hash, setHash] = useState(location.hash || "#/explore");
  useEffect(() => {
    const f = () => setHash(location.hash || "#/explore");
    addEventListener("hashchange", f);
    return () => removeEventListener("hashchange", f);
  }, []);
  return hash;
}

const TITLES: Record<string, string> = {
  "/explore": "Explore", "/tail": "Live tail", "/streams": "Streams", "/jobs": "Search jobs", "/alerts": "Alerts",
  "/admin": "Admin",
};

function App() {
  const [, redraw] = useState(0);
  useEffect(() => { onSession(() => redraw((n) => n + 1)); }, []);
  const hash = useHash();
  const session = getSession();
  if (!session) return <Login />;
  const [page, search = ""] = hash.slice(1).split("?");
  return (
    <>
      <header>
        <nav aria-label="Main">
          <strong>MoleSignal</strong>
          <a href="#/explore" aria-current={page === "/explore" ? "page" : undefined}>Explore</a>
          <a href="#/tail" aria-current={page === "/tail" ? "page" : undefined}>Live tail</a>
          <a href="#/streams" aria-current={page === "/streams" ? "page" : undefined}>Streams</a>
          <a href="#/jobs" aria-current={page === "/jobs" ? "page" : undefined}>Search jobs</a>
          <a href="#/alerts" aria-current={page === "/alerts" ? "page" : undefined}>Alerts</a>
          {role() === "admin" &&
            <a href="#/admin" aria-current={page === "/admin" ? "page" : undefined}>Admin</a>}
        </nav>
        <label>Org{" "}
          <select value={session.org} onChange={(e) => { switchOrg((e.target as HTMLSelectElement).value); }}>
            {(session.orgs.length ? session.orgs : [{ org: session.org, role: "admin" }]).map((o) =>
              <option key={o.org} value={o.org}>{o.org}</option>)}
          </select>
        </label>
        <span class="who">{session.email}</span>
        <button onClick={logout}>Sign out</button>
      </header>
      <main key={session.org}>
        <h1 class="sr-only">{TITLES[page] ?? "Explore"}</h1>
        {page === "/streams" ? <Streams />
          : page === "/jobs" ? <Jobs />
          : page === "/alerts" ? <Alerts />
          : page === "/admin" ? <Admin />
          : page === "/tail" ? <Tail search={search} navigate={(s) => { location.hash = `#/tail?${s}`; }} />
          : <Explorer search={search} navigate={(s) => { location.hash = `#/explore?${s}`; }} />}
      </main>
    </>
  );
}

render(<App />, document.getElementById("app")!);
