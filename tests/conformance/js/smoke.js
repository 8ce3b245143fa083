// The official JS client, unchanged, against a queue named by TASKCLUSTER_* variables.
// Prints one JSON object with what it saw; the Python test judges it.
const taskcluster = require('taskcluster-client');

async function main() {
  const queue = new taskcluster.Queue(taskcluster.fromEnvVars());
  const taskQueueId = process.argv[2];
  const taskId = taskcluster.slugid();
  const out = {taskId};

  const created = await queue.createTask(taskId, {
    taskQueueId,
    created: taskcluster.fromNowJSON(),
    deadline: taskcluster.fromNowJSON('1 day'),
    payload: {},
    metadata: {name: 'js smoke', description: 'official JS client', owner: 'js@example.com',
               source: 'https://example.com/js'},
  });
  out.createdState = created.status.state;
  out.statusState = (await queue.status(taskId)).status.state;

  const claim = (await queue.claimWork(taskQueueId, {tasks: 1, workerGroup: 'js-wg', workerId: 'js-w'})).tasks[0];
  out.claimedTaskId = claim.status.taskId;
  const worker = new taskcluster.Queue({rootUrl: process.env.TASKCLUSTER_ROOT_URL, credentials: claim.credentials});
  const artifact = await worker.createArtifact(taskId, 0, 'public/js.txt', {
    storageType: 's3', contentType: 'text/plain', expires: taskcluster.fromNowJSON('1 hour'),
  });
  const put = await fetch(artifact.putUrl, {method: 'PUT', body: 'hello from js\n', headers: {'Content-Type': 'text/plain'}});
  out.putStatus = put.status;
  const url = queue.buildUrl(queue.getLatestArtifact, taskId, 'public/js.txt');
  const download = await fetch(url);  // follows the 303
  out.downloadStatus = download.status;
  out.downloadText = await download.text();
  out.completedState = (await worker.reportCompleted(taskId, 0)).status.state;

  try {
    await queue.status(taskcluster.slugid());
  } catch (err) {
    out.unknown = {statusCode: err.statusCode, code: err.code};
  }
  console.log(JSON.stringify(out));
}

main().catch(err => {
  console.log(JSON.stringify({error: String(err && err.stack || err), code: err && err.code}));
  process.exit(1);
});
