"""The baseline: a bare FastAPI app with one JSON endpoint, served the same way as a service."""

from fastapi import FastAPI

app = FastAPI()


@app.get("/ping")
async def ping() -> dict[str, str]:
    """The cheapest possible endpoint."""
    return {"status": "ok"}
