// The tutorial's load, for people who use k6:  k6 run --vus 1 --duration 300s load/k6-script.js
// Override the target with  -e API_URL=http://127.0.0.1:8000  (the stack's `apiUrl` output).
import http from "k6/http";
import { sleep } from "k6";

const base = (__ENV.API_URL || "http://127.0.0.1:8000").replace(/\/+$/, "");
const paths = ["/", "/io_task", "/cpu_task", "/random_sleep", "/random_status"];

export default function () {
  for (const path of paths) {
    http.get(base + path, { tags: { name: path } });
  }
  sleep(0.5);
}
