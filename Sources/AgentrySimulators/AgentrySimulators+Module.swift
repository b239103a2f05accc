// AgentrySimulators: provider and SaaS simulators that speak the vendors' real wire formats.
// This module's types arrive with the issue that builds it; the dependency arrows in
// Package.swift are already final, so adding them is filling a room, not moving walls.
