import AgentryRegistry
import Testing

/// The version state machine, exhaustively: every (state, event) pair either makes exactly the
/// listed step or is refused with a reason.
@Suite struct AgentVersionStateTests {
    static let allowed: [AgentVersionState: [AgentVersionEvent: AgentVersionState]] = [
        .draft: [.repush: .draft, .submit: .submitted],
        .submitted: [
            .withdraw: .withdrawn, .approve: .published, .reject: .rejected, .requestChanges: .changesRequested,
        ],
        .published: [.retire: .retired],
    ]

    static let pairs = AgentVersionState.allCases.flatMap { state in AgentVersionEvent.allCases.map { (state, $0) } }

    @Test(arguments: pairs) func everyTransitionIsListedOrRefused(state: AgentVersionState, event: AgentVersionEvent) {
        if let next = Self.allowed[state]?[event] {
            #expect((try? state.after(event)) == next)
        } else {
            #expect(throws: RegistryError.invalidTransition(from: state, event: event)) { try state.after(event) }
        }
    }

    @Test func onlyADraftIsMutableAndRefusalsSayWhy() {
        #expect(AgentVersionState.allCases.filter(\.isMutable) == [.draft])
        #expect(
            RegistryError.invalidTransition(from: .rejected, event: .approve).description
                == "a rejected version cannot be approved")
        #expect(Self.pairs.count == 49)
    }
}
