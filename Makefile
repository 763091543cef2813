# Thin aliases for ./dev, which does all set-up (uv, dependencies) itself.
.PHONY: up test lint bench

up:
	./dev up

test:
	./dev test

lint:
	./dev lint

bench:
	./dev bench
