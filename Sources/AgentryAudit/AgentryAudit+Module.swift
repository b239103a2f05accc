// AgentryAudit: the RFC 6962 Merkle log, C2SP checkpoints and proofs. Imports only swift-crypto.
// This module's types arrive with the issue that builds it; the dependency arrows in
// Package.swift are already final, so adding them is filling a room, not moving walls.
