// One learner's and one worker's path through the Queue, with an official JS client, unchanged.
//
//   node queue_flow.js [module] [taskQueueId]
//
// `module` is the client package to load (default `taskcluster-client`); `taskQueueId` is a task
// queue no built-in worker serves (default `js-test/worker`), so this script is the worker.
// The root URL and credentials come from TASKCLUSTER_ROOT_URL / _CLIENT_ID / _ACCESS_TOKEN.
// It prints exactly one JSON line: what each step saw. It judges nothing; test_js_clients.py does.
// On the first failing step it still prints that line, with `failedStep` and the error, and
// exits 1, so the test can say which call broke and how.
'use strict';

const moduleName = process.argv[2] || 'taskcluster-client';
const taskQueueId = process.argv[3] || 'js-test/worker';

// Newer releases are ES modules: under require() their exports sit on `.default`.
const loaded = require(moduleName);
const taskcluster = loaded.Queue ? loaded : loaded.default;

const PUBLIC_NAME = 'public/js/hello.txt';
const PUBLIC_TEXT = 'hello from the JS client\n';
const PRIVATE_NAME = 'private/js/secret.bin';
// Every byte value once: a download that re-encodes text would not give these back.
const PRIVATE_BYTES = Buffer.from(Array.from({length: 256}, (_, i) => i));

const out = {client: moduleName, taskQueueId};
let current = 'setup';

function describeError(err) {
  return {
    message: String(err && err.message || err),
    code: err && err.code,
    statusCode: err && err.statusCode,
  };
}

// The tutorial's own task (notebook 01), on a task queue nobody else serves.
function tutorialTask() {
  return {
    taskQueueId,
    schedulerId: '-',
    created: taskcluster.fromNowJSON(),
    deadline: taskcluster.fromNowJSON('2 hours'),
    payload: {
      image: 'ubuntu:latest',
      command: ['/bin/bash', '-c', 'ls && du /usr'],
      maxRunTime: 600,
    },
    metadata: {
      name: 'Example task',
      description: 'This task lists the working directory and sizes /usr.',
      owner: 'learner@example.com',
      source: 'https://github.com/taskcluster/taskcluster/tree/main/ui/docs/tutorial',
    },
  };
}

// A plain HTTP download, following redirects, as a browser or `curl -L` would.
async function download(url) {
  const res = await fetch(url, {redirect: 'follow'});
  const body = Buffer.from(await res.arrayBuffer());
  return {status: res.status, contentType: res.headers.get('content-type'),
          redirected: res.redirected, hex: body.toString('hex')};
}

async function upload(putUrl, contentType, bytes) {
  const res = await fetch(putUrl,
    {method: 'PUT', body: bytes, headers: {'Content-Type': contentType}});
  return res.status;
}

async function main() {
  const options = taskcluster.fromEnvVars();
  const rootUrl = options.rootUrl;
  const queue = new taskcluster.Queue(options);
  const taskId = taskcluster.slugid();
  out.taskId = taskId;

  current = 'createTask';
  const created = await queue.createTask(taskId, tutorialTask());
  out.createTask = {state: created.status.state, runs: created.status.runs.length,
                    taskQueueId: created.status.taskQueueId};

  current = 'status';
  const status = await queue.status(taskId);
  out.status = {taskId: status.status.taskId, state: status.status.state,
                reasonCreated: status.status.runs[0].reasonCreated};

  current = 'task';
  const definition = await queue.task(taskId);
  out.task = {taskQueueId: definition.taskQueueId, priority: definition.priority,
              retries: definition.retries, taskGroupId: definition.taskGroupId,
              name: definition.metadata.name};

  current = 'claimWork';
  const claimed = await queue.claimWork(taskQueueId,
    {tasks: 1, workerGroup: 'js-group', workerId: 'js-worker'});
  const claim = claimed.tasks[0];
  out.claimWork = {count: claimed.tasks.length, taskId: claim.status.taskId, runId: claim.runId,
                   state: claim.status.state, workerId: claim.workerId,
                   credentialKeys: Object.keys(claim.credentials).sort(),
                   takenUntil: claim.takenUntil};

  current = 'reclaimTask';
  // From here on the worker speaks with the temporary credentials of its claim, which the
  // client signs into Hawk's `ext` (a certificate, standard base64).
  const workerQueue = new taskcluster.Queue({rootUrl, credentials: claim.credentials});
  const reclaim = await workerQueue.reclaimTask(taskId, claim.runId);
  out.reclaimTask = {state: reclaim.status.state, runId: reclaim.runId,
                     takenUntil: reclaim.takenUntil,
                     credentialKeys: Object.keys(reclaim.credentials).sort()};
  const worker = new taskcluster.Queue({rootUrl, credentials: reclaim.credentials});

  current = 'createArtifact';
  const expires = taskcluster.fromNowJSON('1 day');
  const pub = await worker.createArtifact(taskId, claim.runId, PUBLIC_NAME,
    {storageType: 's3', contentType: 'text/plain', expires});
  const priv = await worker.createArtifact(taskId, claim.runId, PRIVATE_NAME,
    {storageType: 's3', contentType: 'application/octet-stream', expires});
  out.createArtifact = {storageType: pub.storageType, contentType: pub.contentType,
                        hasPutUrl: typeof pub.putUrl === 'string' && pub.putUrl.length > 0};

  current = 'upload';
  out.upload = {
    public: await upload(pub.putUrl, 'text/plain', Buffer.from(PUBLIC_TEXT)),
    private: await upload(priv.putUrl, 'application/octet-stream', PRIVATE_BYTES),
  };

  current = 'reportCompleted';
  const completed = await worker.reportCompleted(taskId, claim.runId);
  out.reportCompleted = {state: completed.status.state,
                         reasonResolved: completed.status.runs[claim.runId].reasonResolved};

  current = 'listLatestArtifacts';
  const listed = await queue.listLatestArtifacts(taskId);
  out.listLatestArtifacts = listed.artifacts.map(a => ({name: a.name, storageType: a.storageType,
                                                        contentType: a.contentType})).sort(
    (a, b) => a.name.localeCompare(b.name));

  current = 'getLatestArtifact';
  // An API call does not follow the 303: the client returns its JSON body.
  const located = await queue.getLatestArtifact(taskId, PUBLIC_NAME);
  out.getLatestArtifact = {storageType: located.storageType, url: located.url,
                           download: await download(located.url)};

  current = 'buildUrl';
  out.buildUrl = {
    public: await download(queue.buildUrl(queue.getLatestArtifact, taskId, PUBLIC_NAME)),
    // Unsigned and private: the anonymous role may not read it.
    private: await download(queue.buildUrl(queue.getLatestArtifact, taskId, PRIVATE_NAME)),
  };

  current = 'buildSignedUrl';
  const signed = queue.buildSignedUrl(queue.getLatestArtifact, taskId, PRIVATE_NAME,
    {expiration: 600});
  out.buildSignedUrl = {hasBewit: new URL(signed).searchParams.has('bewit'),
                        download: await download(signed)};

  current = 'rerunTask';
  const rerun = await queue.rerunTask(taskId);
  out.rerunTask = {state: rerun.status.state, runs: rerun.status.runs.length,
                   reasonCreated: rerun.status.runs[rerun.status.runs.length - 1].reasonCreated};

  current = 'cancelTask';
  const canceled = await queue.cancelTask(taskId);
  const lastRun = canceled.status.runs[canceled.status.runs.length - 1];
  out.cancelTask = {state: canceled.status.state, runs: canceled.status.runs.length,
                    reasonResolved: lastRun.reasonResolved,
                    firstRun: canceled.status.runs[0].state};

  current = 'unknownTask';
  try {
    await queue.status(taskcluster.slugid());
    out.unknownTask = {resolved: true};
  } catch (err) {
    out.unknownTask = describeError(err);
  }

  console.log(JSON.stringify(out));
}

main().catch(err => {
  out.failedStep = current;
  out.error = describeError(err);
  out.stack = String(err && err.stack || '');
  console.log(JSON.stringify(out));
  process.exit(1);
});
