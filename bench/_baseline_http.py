"""The Send API baseline: a bare FastAPI endpoint that parses the same JSON and answers 202."""

from __future__ import annotations

import sys

import orjson
import uvicorn
from fastapi import FastAPI, Request, Response

app = FastAPI()


@app.post("/v1/send")
async def send(request: Request) -> Response:
    """Parse the body and answer like the Send API, storing nothing."""
    payload = orjson.loads(await request.body())
    count = len(payload.get("messages", []))
    return Response(
        orjson.dumps({"error_code": 0, "message": "OK", "queued_messages": count}),
        status_code=202,
        media_type="application/json",
    )


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)
