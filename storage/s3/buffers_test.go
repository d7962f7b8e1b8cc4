package s3

import "testing"

func TestPartBuffersKeepTwo(t *testing.T) {
	p := &partBuffers{size: 1 << 20, free: make(chan *partBuffer, idlePartBuffers)}
	bs := []*partBuffer{p.get(), p.get(), p.get()}
	for i, b := range bs {
		if len(b.b) != 1<<20 || !b.mapped {
			t.Fatalf("buffer %d: %d bytes, mapped %v; want a 1 MiB mapping", i, len(b.b), b.mapped)
		}
		b.b[0], b.b[len(b.b)-1] = byte(i), byte(i) // writable end to end
	}
	for _, b := range bs {
		p.put(b)
	}
	if bs[2].b != nil {
		t.Error("the third buffer put was kept; want it dropped (unmapped)")
	}
	for i := range idlePartBuffers {
		if got := p.get(); got != bs[i] {
			t.Errorf("get %d returned a new buffer; want kept buffer %d", i, i)
		}
	}
}
