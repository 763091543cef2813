"""The gateway's pure rules: routing, public routes, headers, correlation ids, instances."""

import pytest

from retail_gateway import routing
from retail_gateway.docs import merge
from retail_gateway.upstreams import Pool


class TestRouting:
    @pytest.mark.parametrize(
        ("path", "service"),
        [
            ("/api/v1/users/login", "user"),
            ("/.well-known/jwks.json", "user"),
            ("/api/v1/products/1/pictures", "product"),
            ("/api/v1/categories", "product"),
            ("/media/ab/cd.webp", "product"),
            ("/api/v1/inventory/levels", "inventory"),
            ("/api/v1/orders", "order"),
            ("/api/v1/payments/webhooks/stripe", "payment"),
            ("/api/v1/notifications/dead-letters", "notification"),
            ("/api/v1/audit/events", "audit"),
            ("/api/v1/usersx", None),
            ("/healthz", None),
            ("/api/v2/orders", None),
        ],
    )
    def test_a_path_belongs_to_one_service(self, path: str, service: str | None) -> None:
        assert routing.service_for(path) == service

    @pytest.mark.parametrize(
        ("method", "path", "public"),
        [
            ("POST", "/api/v1/users/login", True),
            ("GET", "/api/v1/users/login", False),
            ("GET", "/api/v1/products", True),
            ("HEAD", "/api/v1/products/1", True),
            ("POST", "/api/v1/products", False),
            ("POST", "/api/v1/payments/webhooks/stripe", True),
            ("GET", "/api/v1/payments", False),
            ("GET", "/api/v1/users/profile", False),
            ("GET", "/api/v1/audit/events", False),
        ],
    )
    def test_only_listed_routes_are_public(self, method: str, path: str, public: bool) -> None:
        assert routing.is_public(method, path) is public


class TestHeaders:
    def test_claimed_identities_hop_by_hop_and_forwarding_headers_never_cross(self) -> None:
        inbound = [
            ("Authorization", "Bearer t"),
            ("X-User-Id", "admin"),
            ("x-user-roles", "admin"),
            ("X-Tenant-Id", "other"),
            ("Connection", "keep-alive, X-Private"),
            ("X-Private", "1"),
            ("Keep-Alive", "timeout=5"),
            ("Transfer-Encoding", "chunked"),
            ("Host", "gateway"),
            ("X-Forwarded-For", "1.2.3.4"),
            ("Content-Length", "3"),
            ("traceparent", "00-aa-bb-01"),
            ("Accept", "application/json"),
        ]
        assert routing.forwardable(inbound) == [
            ("authorization", "Bearer t"),
            ("traceparent", "00-aa-bb-01"),
            ("accept", "application/json"),
        ]

    def test_the_upstreams_hop_by_hop_headers_stay_behind(self) -> None:
        upstream = [("Connection", "close"), ("Content-Type", "a/b"), ("Content-Length", "2")]
        assert routing.returnable(upstream) == [("content-type", "a/b"), ("content-length", "2")]

    def test_picture_uploads_have_their_own_body_limit(self) -> None:
        assert routing.body_limit("/api/v1/products/x/pictures", default=1, upload=9) == 9
        assert routing.body_limit("/api/v1/products", default=1, upload=9) == 1


class TestInstances:
    def test_round_robin_over_the_healthy_ones(self) -> None:
        now = [0.0]
        pool = Pool(
            ["http://a", "http://b", "http://c"],
            threshold=1,
            reset_seconds=10,
            clock=lambda: now[0],
        )
        firsts = [next(pool.candidates()).url for _ in range(3)]
        assert firsts == ["http://a", "http://b", "http://c"]
        pool.instances[1].breaker.failed()
        assert {next(pool.candidates()).url for _ in range(6)} == {"http://a", "http://c"}
        assert pool.retry_after() == 10
        now[0] = 11.0  # half-open: one trial call goes to b again
        assert "http://b" in {next(pool.candidates()).url for _ in range(3)}

    def test_no_candidate_when_every_circuit_is_open(self) -> None:
        pool = Pool(["http://a"], threshold=1, reset_seconds=10)
        pool.instances[0].breaker.failed()
        assert list(pool.candidates()) == []


class TestDocs:
    def test_services_schemas_are_prefixed_and_only_routed_paths_kept(self) -> None:
        document = {
            "paths": {
                "/api/v1/orders": {"get": {"$ref": "#/components/schemas/OrderRead"}},
                "/healthz": {"get": {}},
            },
            "components": {"schemas": {"OrderRead": {"type": "object"}}},
        }
        merged = merge({"order": document, "user": {"paths": {"/api/v1/users/login": {}}}})
        assert list(merged["paths"]) == ["/api/v1/orders", "/api/v1/users/login"]
        assert (
            merged["paths"]["/api/v1/orders"]["get"]["$ref"]
            == "#/components/schemas/Order_OrderRead"
        )
        assert merged["components"]["schemas"] == {"Order_OrderRead": {"type": "object"}}
