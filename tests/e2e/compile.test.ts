/**
 * `deno task compile`: one executable with the serve task's flags, permissions and the mime-db
 * data inside. Opt-in (SOCKSERVE_TEST_COMPILE=1): `deno compile` downloads the `denort` runtime
 * for the pinned Deno version on first use (or takes it from DENORT_BIN), which a machine
 * without access to Deno's download host cannot do, and the build takes a while.
 */
import assert from "node:assert/strict";
import { run } from "../helpers.ts";
import { requireTool } from "../tools.ts";

const enabled = Deno.env.get("SOCKSERVE_TEST_COMPILE") === "1";

Deno.test({
  name: "deno task compile: the binary serves files with the same flags (opt-in)",
  ignore: !enabled || requireTool("curl"),
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "sockserve-compile-" });
    const binary = `${dir}/sockserve`;
    try {
      const config = JSON.parse(
        await Deno.readTextFile(new URL("../../deno.json", import.meta.url)),
      );
      const [deno, ...args] = (config.tasks.compile as string).split(/\s+/);
      assert.equal(deno, "deno");
      const output = args.indexOf("--output");
      assert.ok(output > 0, "the task names its --output");
      args[output + 1] = binary;
      const build = await new Deno.Command(Deno.execPath(), {
        args,
        cwd: new URL("../..", import.meta.url),
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(build.code, 0, new TextDecoder().decode(build.stderr));

      await Deno.mkdir(`${dir}/root`);
      await Deno.writeTextFile(`${dir}/root/page.webmanifest`, "{}");
      for (const extra of [[], ["--workers", "2"]]) {
        const child = new Deno.Command(binary, {
          args: [`${dir}/root`, "--port", "0", "--health", "/healthz", "--log", "off", ...extra],
          stdout: "piped",
          stderr: "piped",
        }).spawn();
        try {
          const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
          const first = (await lines.read()).value ?? "";
          const port = /^Listening on http:\/\/127\.0\.0\.1:(\d+)\//.exec(first)?.[1];
          assert.ok(port, first);
          // A type only mime-db knows: the database is inside the binary.
          const curl = await run("curl", [
            "-sS",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code} %{content_type}",
            `http://127.0.0.1:${port}/page.webmanifest`,
          ]);
          assert.equal(curl.stdout, "200 application/manifest+json");
          const health = await run("curl", ["-sS", `http://127.0.0.1:${port}/healthz`]);
          assert.equal(health.stdout, "ok\n");
          child.kill("SIGTERM");
          assert.equal((await child.status).code, 0);
          await lines.cancel();
        } finally {
          try {
            child.kill("SIGKILL");
          } catch {
            // exited
          }
          await child.status;
          await child.stderr.cancel().catch(() => {});
        }
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
