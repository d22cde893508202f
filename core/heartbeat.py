"""The cache keys by which workers and beat say they are alive (read by /healthz?deep)."""

# Written by every worker's timer (webhooks.tasks.worker_tick).
WORKER_SEEN_KEY = "dix:worker-seen"
# Written by the heartbeat task that beat sends (intel.tasks.heartbeat).
BEAT_HEARTBEAT_KEY = "dix:worker-heartbeat"
