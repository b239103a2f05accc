// AgentryGateway: provider adapters, pricing, credential vault, tool connectors and the call pipeline.
// This module's types arrive with the issue that builds it; the dependency arrows in
// Package.swift are already final, so adding them is filling a room, not moving walls.
