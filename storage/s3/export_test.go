package s3

// PartBuffersMade returns how many part buffers of s's part size were made since the
// last DropPartBuffers.
func PartBuffersMade(s *Store) int64 { return s.bufs.made.Load() }

// DropPartBuffers drops the kept part buffers of s's part size and resets the count
// of those made.
func DropPartBuffers(s *Store) {
	for {
		select {
		case b := <-s.bufs.free:
			b.drop()
		default:
			s.bufs.made.Store(0)
			return
		}
	}
}
