"""The Queue v1 API as data: one row per method.

This table is the single source of truth for both sides of tutorial-kit. The client builds its
methods, URLs and ``buildUrl`` from it; the mock queue builds its routes, scope checks and
validation from it. The facts (names, verbs, routes, parameters, scope expressions, schema names,
stability) are those of the real Taskcluster Queue v1 service.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

SERVICE_NAME = "queue"
API_VERSION = "v1"
EXCHANGE_PREFIX = "exchange/taskcluster-queue/v1/"

# URL-parameter patterns the real service enforces (400 InvalidRequestArguments otherwise).
SLUGID_PATTERN = r"^[A-Za-z0-9_-]{8}[Q-T][A-Za-z0-9_-][CGKOSWaeimquy26-][A-Za-z0-9_-]{10}[AQgw]$"
PARAM_PATTERNS: dict[str, str] = {
    "taskId": SLUGID_PATTERN,
    "taskGroupId": SLUGID_PATTERN,
    "runId": r"^[1-9]*[0-9]+$",
    "name": r"^[\x20-\x7e]+$",
    "taskQueueId": r"^[a-zA-Z0-9-_]{1,38}/[a-z]([-a-z0-9]{0,36}[a-z0-9])?$",
    "provisionerId": r"^[a-zA-Z0-9-_]{1,38}$",
    "workerType": r"^[a-z]([-a-z0-9]{0,36}[a-z0-9])?$",
    "workerGroup": r"^([a-zA-Z0-9-_]{1,38})$",
    "workerId": r"^([a-zA-Z0-9-_]{1,38})$",
}
# Query-string options and their patterns.
QUERY_PATTERNS: dict[str, str] = {
    "continuationToken": r"^.+$",
    "limit": r"^[0-9]+$",
    "quarantined": r"^(true|false)$",
}
# Route parameters that may contain '/' (matched by a wildcard upstream).
WILDCARD_PARAMS = frozenset({"name", "taskQueueId"})


@dataclass(frozen=True)
class Entry:
    """One Queue API method."""

    name: str
    method: str  # lower-case HTTP verb
    route: str  # with <param> placeholders, relative to /api/queue/v1
    args: tuple[str, ...]
    query: tuple[str, ...]
    scopes: Any  # scope expression (AllOf/AnyOf/for-each tree) or None
    input: str | None  # schema file name, e.g. "create-task-request.json"
    output: str | None
    stability: str
    category: str
    title: str = ""

    @property
    def paginated(self) -> bool:
        return "continuationToken" in self.query

    def path(self, *values: Any, quote=None) -> str:
        """The route with the values substituted, each quoted as one path segment."""
        from urllib.parse import quote as _quote

        q = quote or (lambda v: _quote(str(v), safe=""))
        if len(values) != len(self.args):
            raise TypeError(
                f"{self.name}() takes {len(self.args)} route argument(s) "
                f"({', '.join(self.args) or 'none'}), got {len(values)}"
            )
        path = self.route
        for arg, value in zip(self.args, values):
            path = path.replace(f"<{arg}>", q(value), 1)
        return path

    def regex(self) -> re.Pattern[str]:
        """A regex over the *raw* (still percent-encoded) path, one group per argument."""
        pattern = "^"
        rest = self.route
        for arg in self.args:
            before, rest = rest.split(f"<{arg}>", 1)
            pattern += re.escape(before)
            pattern += f"(?P<{arg}>.+)" if arg in WILDCARD_PARAMS else f"(?P<{arg}>[^/]+)"
        pattern += re.escape(rest) + "$"
        return re.compile(pattern)


ENTRIES: tuple[Entry, ...] = (
    Entry('ping', 'get', '/ping', (), (),
          None,
          None, None, 'stable', 'Monitoring'),
    Entry('lbheartbeat', 'get', '/__lbheartbeat__', (), (),
          None,
          None, None, 'stable', 'Monitoring'),
    Entry('version', 'get', '/__version__', (), (),
          None,
          None, None, 'stable', 'Monitoring'),
    Entry('task', 'get', '/task/<taskId>', ('taskId',), (),
          'queue:get-task:<taskId>',
          None, 'task.json', 'stable', 'Tasks'),
    Entry('tasks', 'post', '/tasks', (), ('continuationToken', 'limit'),
          {'AllOf': [{'each': 'queue:get-task:<taskId>', 'for': 'taskId', 'in': 'taskIds'}]},
          'tasks-request.json', 'tasks-response.json', 'experimental', 'Tasks'),
    Entry('statuses', 'post', '/tasks/status', (), ('continuationToken', 'limit'),
          {'AllOf': [{'each': 'queue:status:<taskId>', 'for': 'taskId', 'in': 'taskIds'}]},
          'tasks-request.json', 'tasks-statuses-response.json', 'experimental', 'Tasks'),
    Entry('status', 'get', '/task/<taskId>/status', ('taskId',), (),
          'queue:status:<taskId>',
          None, 'task-status-response.json', 'stable', 'Tasks'),
    Entry('listTaskGroup', 'get', '/task-group/<taskGroupId>/list', ('taskGroupId',), ('continuationToken', 'limit'),
          'queue:list-task-group:<taskGroupId>',
          None, 'list-task-group-response.json', 'stable', 'Task Groups'),
    Entry('cancelTaskGroup', 'post', '/task-group/<taskGroupId>/cancel', ('taskGroupId',), (),
          'queue:cancel-task-group:<schedulerId>/<taskGroupId>',
          None, 'cancel-task-group-response.json', 'experimental', 'Tasks'),
    Entry('getTaskGroup', 'get', '/task-group/<taskGroupId>', ('taskGroupId',), (),
          'queue:list-task-group:<taskGroupId>',
          None, 'task-group-response.json', 'stable', 'Task Groups'),
    Entry('sealTaskGroup', 'post', '/task-group/<taskGroupId>/seal', ('taskGroupId',), (),
          'queue:seal-task-group:<schedulerId>/<taskGroupId>',
          None, 'task-group-response.json', 'experimental', 'Task Groups'),
    Entry('listDependentTasks', 'get', '/task/<taskId>/dependents', ('taskId',), ('continuationToken', 'limit'),
          'queue:list-dependent-tasks:<taskId>',
          None, 'list-dependent-tasks-response.json', 'stable', 'Tasks'),
    Entry('createTask', 'put', '/task/<taskId>', ('taskId',), (),
          {'AllOf': [{'each': '<scope>', 'for': 'scope', 'in': 'scopes'},
                     {'each': 'queue:route:<route>', 'for': 'route', 'in': 'routes'},
                     'queue:create-task:project:<projectId>',
                     'queue:scheduler-id:<schedulerId>',
                     {'AnyOf': [{'each': 'queue:create-task:<priority>:<provisionerId>/<workerType>',
                                 'for': 'priority',
                                 'in': 'priorities'}]}]},
          'create-task-request.json', 'task-status-response.json', 'stable', 'Tasks'),
    Entry('scheduleTask', 'post', '/task/<taskId>/schedule', ('taskId',), (),
          {'AnyOf': ['queue:schedule-task:<schedulerId>/<taskGroupId>/<taskId>',
                     'queue:schedule-task-in-project:<projectId>',
                     {'AllOf': ['queue:schedule-task',
                                'assume:scheduler-id:<schedulerId>/<taskGroupId>']}]},
          None, 'task-status-response.json', 'stable', 'Tasks'),
    Entry('rerunTask', 'post', '/task/<taskId>/rerun', ('taskId',), (),
          {'AnyOf': ['queue:rerun-task:<schedulerId>/<taskGroupId>/<taskId>',
                     'queue:rerun-task-in-project:<projectId>',
                     {'AllOf': ['queue:rerun-task',
                                'assume:scheduler-id:<schedulerId>/<taskGroupId>']}]},
          None, 'task-status-response.json', 'stable', 'Tasks'),
    Entry('cancelTask', 'post', '/task/<taskId>/cancel', ('taskId',), (),
          {'AnyOf': ['queue:cancel-task:<schedulerId>/<taskGroupId>/<taskId>',
                     'queue:cancel-task-in-project:<projectId>',
                     {'AllOf': ['queue:cancel-task',
                                'assume:scheduler-id:<schedulerId>/<taskGroupId>']}]},
          None, 'task-status-response.json', 'stable', 'Tasks'),
    Entry('changeTaskPriority', 'post', '/task/<taskId>/priority', ('taskId',), (),
          {'AnyOf': ['queue:change-task-priority:<taskId>',
                     'queue:change-task-priority-in-queue:<taskQueueId>']},
          'change-task-priority-request.json', 'task-status-response.json', 'experimental', 'Tasks'),
    Entry('changeTaskGroupPriority', 'post', '/task-group/<taskGroupId>/priority', ('taskGroupId',), (),
          'queue:change-task-group-priority:<schedulerId>/<taskGroupId>',
          'change-task-priority-request.json', 'task-group-priority-change-response.json', 'experimental', 'Task-Groups'),
    Entry('claimWork', 'post', '/claim-work/<taskQueueId>', ('taskQueueId',), (),
          {'AllOf': ['queue:claim-work:<taskQueueId>', 'queue:worker-id:<workerGroup>/<workerId>']},
          'claim-work-request.json', 'claim-work-response.json', 'stable', 'Worker Interface'),
    Entry('claimTask', 'post', '/task/<taskId>/runs/<runId>/claim', ('taskId', 'runId'), (),
          {'AllOf': ['queue:claim-task:<provisionerId>/<workerType>',
                     'queue:worker-id:<workerGroup>/<workerId>']},
          'task-claim-request.json', 'task-claim-response.json', 'deprecated', 'Worker Interface'),
    Entry('reclaimTask', 'post', '/task/<taskId>/runs/<runId>/reclaim', ('taskId', 'runId'), (),
          'queue:reclaim-task:<taskId>/<runId>',
          None, 'task-reclaim-response.json', 'stable', 'Worker Interface'),
    Entry('reportCompleted', 'post', '/task/<taskId>/runs/<runId>/completed', ('taskId', 'runId'), (),
          'queue:resolve-task:<taskId>/<runId>',
          None, 'task-status-response.json', 'stable', 'Worker Interface'),
    Entry('reportFailed', 'post', '/task/<taskId>/runs/<runId>/failed', ('taskId', 'runId'), (),
          'queue:resolve-task:<taskId>/<runId>',
          None, 'task-status-response.json', 'stable', 'Worker Interface'),
    Entry('reportException', 'post', '/task/<taskId>/runs/<runId>/exception', ('taskId', 'runId'), (),
          'queue:resolve-task:<taskId>/<runId>',
          'task-exception-request.json', 'task-status-response.json', 'stable', 'Worker Interface'),
    Entry('createArtifact', 'post', '/task/<taskId>/runs/<runId>/artifacts/<name>', ('taskId', 'runId', 'name'), (),
          'queue:create-artifact:<taskId>/<runId>',
          'post-artifact-request.json', 'post-artifact-response.json', 'stable', 'Artifacts'),
    Entry('finishArtifact', 'put', '/task/<taskId>/runs/<runId>/artifacts/<name>', ('taskId', 'runId', 'name'), (),
          'queue:create-artifact:<taskId>/<runId>',
          'finish-artifact-request.json', None, 'stable', 'Artifacts'),
    Entry('getArtifact', 'get', '/task/<taskId>/runs/<runId>/artifacts/<name>', ('taskId', 'runId', 'name'), (),
          {'AllOf': [{'each': 'queue:get-artifact:<name>', 'for': 'name', 'in': 'names'}]},
          None, 'get-artifact-response.json', 'stable', 'Artifacts'),
    Entry('getLatestArtifact', 'get', '/task/<taskId>/artifacts/<name>', ('taskId', 'name'), (),
          {'AllOf': [{'each': 'queue:get-artifact:<name>', 'for': 'name', 'in': 'names'}]},
          None, 'get-artifact-response.json', 'stable', 'Artifacts'),
    Entry('listArtifacts', 'get', '/task/<taskId>/runs/<runId>/artifacts', ('taskId', 'runId'), ('continuationToken', 'limit'),
          'queue:list-artifacts:<taskId>:<runId>',
          None, 'list-artifacts-response.json', 'stable', 'Artifacts'),
    Entry('listLatestArtifacts', 'get', '/task/<taskId>/artifacts', ('taskId',), ('continuationToken', 'limit'),
          'queue:list-artifacts:<taskId>',
          None, 'list-artifacts-response.json', 'stable', 'Artifacts'),
    Entry('artifactInfo', 'get', '/task/<taskId>/runs/<runId>/artifact-info/<name>', ('taskId', 'runId', 'name'), (),
          'queue:list-artifacts:<taskId>:<runId>',
          None, 'artifact-response.json', 'stable', 'Artifacts'),
    Entry('latestArtifactInfo', 'get', '/task/<taskId>/artifact-info/<name>', ('taskId', 'name'), (),
          'queue:list-artifacts:<taskId>',
          None, 'artifact-response.json', 'stable', 'Artifacts'),
    Entry('artifact', 'get', '/task/<taskId>/runs/<runId>/artifact-content/<name>', ('taskId', 'runId', 'name'), (),
          {'AllOf': [{'each': 'queue:get-artifact:<name>', 'for': 'name', 'in': 'names'}]},
          None, 'artifact-content-response.json', 'stable', 'Artifacts'),
    Entry('latestArtifact', 'get', '/task/<taskId>/artifact-content/<name>', ('taskId', 'name'), (),
          {'AllOf': [{'each': 'queue:get-artifact:<name>', 'for': 'name', 'in': 'names'}]},
          None, 'artifact-content-response.json', 'stable', 'Artifacts'),
    Entry('listProvisioners', 'get', '/provisioners', (), ('continuationToken', 'limit'),
          'queue:list-provisioners',
          None, 'list-provisioners-response.json', 'deprecated', 'Worker Metadata'),
    Entry('getProvisioner', 'get', '/provisioners/<provisionerId>', ('provisionerId',), (),
          'queue:get-provisioner:<provisionerId>',
          None, 'provisioner-response.json', 'deprecated', 'Worker Metadata'),
    Entry('pendingTasks', 'get', '/pending/<taskQueueId>', ('taskQueueId',), (),
          'queue:pending-count:<taskQueueId>',
          None, 'pending-tasks-response.json', 'deprecated', 'Worker Metadata'),
    Entry('taskQueueCounts', 'get', '/task-queues/<taskQueueId>/counts', ('taskQueueId',), (),
          {'AllOf': ['queue:pending-count:<taskQueueId>', 'queue:claimed-count:<taskQueueId>']},
          None, 'task-queue-counts-response.json', 'stable', 'Worker Metadata'),
    # newer than the v106 references; the official clients (>= 113) have it
    Entry('taskQueueCountsBatch', 'post', '/task-queues/counts', (), (),
          {'AllOf': [{'each': 'queue:pending-count:<taskQueueId>', 'for': 'taskQueueId',
                      'in': 'taskQueueIds'},
                     {'each': 'queue:claimed-count:<taskQueueId>', 'for': 'taskQueueId',
                      'in': 'taskQueueIds'}]},
          'task-queue-counts-request.json', 'task-queue-counts-list-response.json',
          'experimental', 'Worker Metadata'),
    Entry('listPendingTasks', 'get', '/task-queues/<taskQueueId>/pending', ('taskQueueId',), ('continuationToken', 'limit'),
          'queue:pending-list:<taskQueueId>',
          None, 'list-pending-tasks-response.json', 'experimental', 'Worker Metadata'),
    Entry('listClaimedTasks', 'get', '/task-queues/<taskQueueId>/claimed', ('taskQueueId',), ('continuationToken', 'limit'),
          'queue:claimed-list:<taskQueueId>',
          None, 'list-claimed-tasks-response.json', 'experimental', 'Worker Metadata'),
    Entry('listWorkerTypes', 'get', '/provisioners/<provisionerId>/worker-types', ('provisionerId',), ('continuationToken', 'limit'),
          'queue:list-worker-types:<provisionerId>',
          None, 'list-workertypes-response.json', 'deprecated', 'Worker Metadata'),
    Entry('getWorkerType', 'get', '/provisioners/<provisionerId>/worker-types/<workerType>', ('provisionerId', 'workerType'), (),
          'queue:get-worker-type:<provisionerId>/<workerType>',
          None, 'workertype-response.json', 'deprecated', 'Worker Metadata'),
    Entry('listTaskQueues', 'get', '/task-queues', (), ('continuationToken', 'limit'),
          'queue:list-task-queues',
          None, 'list-taskqueues-response.json', 'stable', 'Worker Metadata'),
    Entry('getTaskQueue', 'get', '/task-queues/<taskQueueId>', ('taskQueueId',), (),
          'queue:get-task-queue:<taskQueueId>',
          None, 'taskqueue-response.json', 'stable', 'Worker Metadata'),
    Entry('listWorkers', 'get', '/provisioners/<provisionerId>/worker-types/<workerType>/workers', ('provisionerId', 'workerType'), ('continuationToken', 'limit', 'quarantined'),
          'queue:list-workers:<provisionerId>/<workerType>',
          None, 'list-workers-response.json', 'deprecated', 'Worker Metadata'),
    Entry('getWorker', 'get', '/provisioners/<provisionerId>/worker-types/<workerType>/workers/<workerGroup>/<workerId>', ('provisionerId', 'workerType', 'workerGroup', 'workerId'), (),
          'queue:get-worker:<provisionerId>/<workerType>/<workerGroup>/<workerId>',
          None, 'worker-response.json', 'deprecated', 'Worker Metadata'),
    Entry('quarantineWorker', 'put', '/provisioners/<provisionerId>/worker-types/<workerType>/workers/<workerGroup>/<workerId>', ('provisionerId', 'workerType', 'workerGroup', 'workerId'), (),
          {'AllOf': ['queue:quarantine-worker:<provisionerId>/<workerType>/<workerGroup>/<workerId>']},
          'quarantine-worker-request.json', 'worker-response.json', 'experimental', 'Worker Metadata'),
    Entry('declareWorker', 'put', '/provisioners/<provisionerId>/worker-types/<workerType>/<workerGroup>/<workerId>', ('provisionerId', 'workerType', 'workerGroup', 'workerId'), (),
          {'AllOf': [{'each': 'queue:declare-worker:<provisionerId>/<workerType>/<workerGroup>/<workerId>#<property>',
                      'for': 'property',
                      'in': 'properties'}]},
          'update-worker-request.json', 'worker-response.json', 'experimental', 'Worker Metadata'),
    Entry('heartbeat', 'get', '/__heartbeat__', (), (),
          None,
          None, None, 'stable', 'Monitoring'),
)

BY_NAME: dict[str, Entry] = {e.name: e for e in ENTRIES}


@dataclass(frozen=True)
class Exchange:
    """One Pulse exchange of the Queue."""

    name: str  # camelCase, as the clients name it (taskDefined)
    exchange: str  # as on the wire (task-defined)
    schema: str
    routing_key: tuple[str, ...]  # names of the routing-key words, in order


EXCHANGES: tuple[Exchange, ...] = (
    Exchange('taskDefined', 'task-defined', 'task-defined-message.json', ('routingKeyKind', 'taskId', 'runId', 'workerGroup', 'workerId', 'provisionerId', 'workerType', 'schedulerId', 'taskGroupId', 'reserved')),
    Exchange('taskPending', 'task-pending', 'task-pending-message.json', ('routingKeyKind', 'taskId', 'runId', 'workerGroup', 'workerId', 'provisionerId', 'workerType', 'schedulerId', 'taskGroupId', 'reserved')),
    Exchange('taskRunning', 'task-running', 'task-running-message.json', ('routingKeyKind', 'taskId', 'runId', 'workerGroup', 'workerId', 'provisionerId', 'workerType', 'schedulerId', 'taskGroupId', 'reserved')),
    Exchange('artifactCreated', 'artifact-created', 'artifact-created-message.json', ('routingKeyKind', 'taskId', 'runId', 'workerGroup', 'workerId', 'provisionerId', 'workerType', 'schedulerId', 'taskGroupId', 'reserved')),
    Exchange('taskCompleted', 'task-completed', 'task-completed-message.json', ('routingKeyKind', 'taskId', 'runId', 'workerGroup', 'workerId', 'provisionerId', 'workerType', 'schedulerId', 'taskGroupId', 'reserved')),
    Exchange('taskFailed', 'task-failed', 'task-failed-message.json', ('routingKeyKind', 'taskId', 'runId', 'workerGroup', 'workerId', 'provisionerId', 'workerType', 'schedulerId', 'taskGroupId', 'reserved')),
    Exchange('taskException', 'task-exception', 'task-exception-message.json', ('routingKeyKind', 'taskId', 'runId', 'workerGroup', 'workerId', 'provisionerId', 'workerType', 'schedulerId', 'taskGroupId', 'reserved')),
    Exchange('taskGroupResolved', 'task-group-resolved', 'task-group-changed-message.json', ('routingKeyKind', 'taskGroupId', 'schedulerId', 'reserved')),
    Exchange('taskGroupSealed', 'task-group-sealed', 'task-group-changed-message.json', ('routingKeyKind', 'taskGroupId', 'schedulerId', 'reserved')),
    Exchange('taskPriorityChanged', 'task-priority-changed', 'task-priority-changed-message.json', ('routingKeyKind', 'taskId', 'runId', 'workerGroup', 'workerId', 'provisionerId', 'workerType', 'schedulerId', 'taskGroupId', 'reserved')),
    Exchange('taskGroupPriorityChanged', 'task-group-priority-changed', 'task-group-priority-changed-message.json', ('routingKeyKind', 'taskGroupId', 'schedulerId', 'reserved')),
)
EXCHANGES_BY_NAME: dict[str, Exchange] = {e.exchange: e for e in EXCHANGES}


# -- the Object service v1 (object artifacts' bytes go through it) ---------------------------------
OBJECT_SERVICE_NAME = "object"
#: The Object service's methods the official clients' upload and download helpers use, with the
#: real service's routes (relative to /api/object/v1), scopes and schemas (under object/v1/).
OBJECT_ENTRIES: tuple[Entry, ...] = (
    Entry('ping', 'get', '/ping', (), (), None, None, None, 'stable', 'Monitoring'),
    Entry('lbheartbeat', 'get', '/__lbheartbeat__', (), (), None, None, None, 'stable',
          'Monitoring'),
    Entry('version', 'get', '/__version__', (), (), None, None, None, 'stable', 'Monitoring'),
    Entry('createUpload', 'put', '/upload/<name>', ('name',), (),
          'object:upload:<projectId>:<name>',
          'object/v1/create-upload-request.json', 'object/v1/create-upload-response.json',
          'stable', 'Upload'),
    Entry('finishUpload', 'post', '/finish-upload/<name>', ('name',), (),
          'object:upload:<projectId>:<name>',
          'object/v1/finish-upload-request.json', None, 'stable', 'Upload'),
    Entry('startDownload', 'put', '/start-download/<name>', ('name',), (),
          'object:download:<name>',
          'object/v1/download-object-request.json', 'object/v1/download-object-response.json',
          'stable', 'Download'),
    Entry('object', 'get', '/metadata/<name>', ('name',), (),
          'object:download:<name>',
          None, 'object/v1/get-object-response.json', 'stable', 'Objects'),
    Entry('download', 'get', '/download/<name>', ('name',), (),
          'object:download:<name>',
          None, None, 'stable', 'Download'),
    Entry('heartbeat', 'get', '/__heartbeat__', (), (), None, None, None, 'stable', 'Monitoring'),
)
OBJECT_BY_NAME: dict[str, Entry] = {e.name: e for e in OBJECT_ENTRIES}
