"""The FastAPI gateway: platform webhooks, sandbox chat, operator/admin API, health."""
