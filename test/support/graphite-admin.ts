/**
 * Logs in to graphite-web's Django admin the way a browser does (CSRF cookie and form token, then the form POST),
 * so a test can tell a refused password from an accepted one on a deployed stack.
 */
import assert from "node:assert/strict";

/** `accepted`: Django answered the login with a redirect and a session that opens the admin index. */
export interface AdminLogin {
  readonly status: number;
  readonly accepted: boolean;
}

function cookie(response: Response, name: string): string | undefined {
  for (const header of response.headers.getSetCookie()) {
    const match = new RegExp(`^${name}=([^;]*)`).exec(header);
    if (match) return match[1];
  }
  return undefined;
}

export async function graphiteAdminLogin(baseUrl: string, username: string, password: string): Promise<AdminLogin> {
  const loginUrl = `${baseUrl}/admin/login/?next=/admin/`;
  const form = await fetch(loginUrl, { signal: AbortSignal.timeout(15_000) });
  if (form.status !== 200) throw new Error(`GET ${loginUrl}: HTTP ${form.status}`);
  const csrfCookie = cookie(form, "csrftoken");
  const token = /name="csrfmiddlewaretoken" value="([^"]+)"/.exec(await form.text())?.[1];
  if (!csrfCookie || !token) throw new Error(`GET ${loginUrl}: no CSRF cookie or form token`);
  const login = await fetch(loginUrl, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", cookie: `csrftoken=${csrfCookie}`, referer: loginUrl },
    body: new URLSearchParams({ csrfmiddlewaretoken: token, username, password, next: "/admin/" }).toString(),
    signal: AbortSignal.timeout(15_000),
  });
  await login.arrayBuffer();
  const session = cookie(login, "sessionid");
  if (login.status !== 302 || !session) return { status: login.status, accepted: false };
  const index = await fetch(`${baseUrl}/admin/`, { redirect: "manual", headers: { cookie: `sessionid=${session}` }, signal: AbortSignal.timeout(15_000) });
  const accepted = index.status === 200 && (await index.text()).includes("Site administration");
  return { status: login.status, accepted };
}

/** Asserts that graphite-web at `baseUrl` refuses the image's `root`/`root` and admits `root` with `password`. */
export async function assertOnlyStackAdminPassword(baseUrl: string, password: string): Promise<void> {
  assert.deepEqual(await graphiteAdminLogin(baseUrl, "root", "root"), { status: 200, accepted: false });
  assert.deepEqual(await graphiteAdminLogin(baseUrl, "root", password), { status: 302, accepted: true });
}

/**
 * What graphite-web's published port answers to each write endpoint (with a body that would change data) and to
 * the reads Grafana makes, as `METHOD path -> status`, for a test to compare with {@link EXPECTED_GRAPHITE_WEB_ANSWERS}.
 */
export async function graphiteWebAnswers(baseUrl: string): Promise<Record<string, number>> {
  const form = { "content-type": "application/x-www-form-urlencoded" };
  const requests: Array<[string, string, string?]> = [
    ["POST", "/tags/tagSeries", "path=deploy_test.tagged;hostile=1"],
    ["POST", "/tags/tagMultiSeries", "path=deploy_test.tagged;hostile=1"],
    ["POST", "/tags/delSeries", "path=deploy_test.tagged;hostile=1"],
    ["POST", "/dashboard/save/hostile", "state=%7B%7D"],
    ["POST", "/dashboard/delete/hostile"],
    ["POST", "/dashboard/email", "sender=a%40b.c&recipients=d%40e.f&subject=x&message=x&graph_params=%7B%7D"],
    ["POST", "/whitelist/add", "metrics=deploy_test.*"],
    ["POST", "/metrics/set-metadata", "path=stats.statsd.numStats&key=aggregationMethod&value=max"],
    ["GET", "/s/render?target=stats.statsd.numStats"],
    ["POST", "/events/", '{"what":"hostile","tags":"x","data":"x"}'],
    ["DELETE", "/render?target=stats.statsd.numStats"],
    ["GET", "/metrics/find?query=stats.*"],
    ["POST", "/render", "target=stats.statsd.numStats&from=-5min&format=json"],
    ["GET", "/events/get_data?from=-1h&until=now"],
    ["GET", "/tags/autoComplete/tags"],
    ["GET", "/version"],
  ];
  const answers: Record<string, number> = {};
  for (const [method, path, body] of requests) {
    const response = await fetch(`${baseUrl}${path}`, { method, headers: form, body, redirect: "manual", signal: AbortSignal.timeout(15_000) });
    await response.arrayBuffer();
    answers[`${method} ${path.split("?")[0]}`] = response.status;
  }
  return answers;
}

export const EXPECTED_GRAPHITE_WEB_ANSWERS: Readonly<Record<string, number>> = {
  "POST /tags/tagSeries": 403,
  "POST /tags/tagMultiSeries": 403,
  "POST /tags/delSeries": 403,
  "POST /dashboard/save/hostile": 403,
  "POST /dashboard/delete/hostile": 403,
  "POST /dashboard/email": 403,
  "POST /whitelist/add": 403,
  "POST /metrics/set-metadata": 403,
  "GET /s/render": 403,
  "POST /events/": 403,
  "DELETE /render": 405,
  "GET /metrics/find": 200,
  "POST /render": 200,
  "GET /events/get_data": 200,
  "GET /tags/autoComplete/tags": 200,
  "GET /version": 200,
};

/** Prints Django's SECRET_KEY as graphite-web's settings resolve it, when run inside the graphite-statsd container. */
export const PRINT_GRAPHITE_SECRET_KEY = [
  "sh",
  "-c",
  "cd /opt/graphite/webapp && PYTHONPATH=/opt/graphite/webapp DJANGO_SETTINGS_MODULE=graphite.settings " +
    '/opt/graphite/bin/python3 -c "from django.conf import settings; print(settings.SECRET_KEY)"',
];
