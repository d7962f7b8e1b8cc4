package exhibit

// Steps of the use cases, passed to Config.Step as they are done: a fault-injection
// test stops the process at one of them and checks what a restart makes of it. The
// ledger's own steps (ledger.StepEventStored, StepLogged, StepIndexed) come through
// the same hook.
const (
	// StepSealed: the sealed content of an upload is stored.
	StepSealed = "sealed"
	// StepDataKeyStored: its data-key record is stored too.
	StepDataKeyStored = "datakey-stored"
	// StepUploadStarted: a resumable upload's session is recorded.
	StepUploadStarted = "upload-started"
	// StepPartStored: a part of a resumable upload is durable and recorded.
	StepPartStored = "part-stored"
	// StepUploadCompleted: the parts of a resumable upload are published as its
	// sealed content (its data key and register event come next).
	StepUploadCompleted = "upload-completed"
	// StepSending: a download request has sent bytes (passed after each write of a
	// segment): its transfer's download-start (or resume) event is recorded, its end
	// is not.
	StepSending = "download-sending"
)

// step reports a step to the hook, if any.
func (s *Service) step(name string) {
	if s.cfg.Step != nil {
		s.cfg.Step(name)
	}
}
