"""gunicorn settings for Ramp's web processes (the command is in the README, "Deploying"):

    gunicorn -c python:tutor.gunicorn_conf tutor.wsgi --bind 127.0.0.1:8000 --workers 4 \
        --worker-class gthread --threads 8 --timeout 60

Each worker fills its caches before serving (tutor.warmup), so the first learners after a
start or a worker's restart don't wait for them.
"""


def post_worker_init(worker):
    from tutor.warmup import warm_caches_at_start

    warm_caches_at_start()
