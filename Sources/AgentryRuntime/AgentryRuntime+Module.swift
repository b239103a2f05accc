// AgentryRuntime: runs agents: the run scheduler, the declarative tool-calling loop and code agents
// as child processes (optionally under bubblewrap).
