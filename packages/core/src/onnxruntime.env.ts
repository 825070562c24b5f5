/**
 * What every process of ours that runs onnxruntime sets in its environment before the first session.
 *
 * onnxruntime 1.30 (its non-Windows 1DS telemetry) otherwise, when its first session creates the ORT
 * environment: queues usage events with a device id in `$XDG_CACHE_HOME` or `$HOME/.cache` under
 * `Microsoft/DeveloperTools/.onnxruntime/` (`deviceid`, `onnxruntime.db`, megabytes after a short run), leaves
 * `mat-debug-<pid>.log` (the 1DS SDK's debug log, empty) and `.ses` (its session file) in `$TMPDIR` (`/tmp`
 * when unset), and uploads to mobile.events.data.microsoft.com. `ORT_DISABLE_TELEMETRY=1` (also `true`/`yes`)
 * stops all of it; it is read at that first session, so setting it any time before is enough. `DO_NOT_TRACK`
 * is not honoured; CI variables (`CI`, `GITHUB_ACTIONS`, ...) happen to disable it too.
 *
 * An inference platform does not report its users' models to a third party, nor write outside its data
 * directory: the gateway (upload checks), the model server and the local runtime's replica environment use it.
 */
export const ONNXRUNTIME_ENV: Readonly<Record<string, string>> = Object.freeze({ ORT_DISABLE_TELEMETRY: '1' });
