package cohort

import (
	"github.com/RoaringBitmap/roaring/v2"
	"github.com/RoaringBitmap/roaring/v2/roaring64"

	"github.com/stewardhealth/steward/internal/warehouse/querydef"
)

// Levels of a set: what its members are. A query's panels meet at its timing's level.
const (
	patientLevel  = 0 // patient_num
	visitLevel    = 1 // (patient_num, encounter_num)
	instanceLevel = 2 // one observation: patient, encounter, concept, provider, start date, instance_num
)

func levelOf(timing string) int {
	switch timing {
	case querydef.SameVisit:
		return visitLevel
	case querydef.SameInstNo:
		return instanceLevel
	}
	return patientLevel
}

// inst is one observation instance: the facts of a concept (its own and its modifiers') that
// share patient, visit, provider, start date and instance number.
type inst struct {
	patient, enc  int64
	concept, prov string
	start         string
	num           int64
}

// visitKey packs a visit: patient in the high half, encounter in the low.
func visitKey(patient, enc int64) uint64 { return uint64(patient)<<32 | uint64(uint32(enc)) }

func visitPatient(k uint64) uint32 { return uint32(k >> 32) }

// set is a set of patients, visits or instances.
type set struct {
	level     int
	patients  *roaring.Bitmap
	visits    *roaring64.Bitmap
	instances map[inst]struct{}
}

func newSet(level int) *set {
	s := &set{level: level}
	switch level {
	case patientLevel:
		s.patients = roaring.New()
	case visitLevel:
		s.visits = roaring64.New()
	default:
		s.instances = map[inst]struct{}{}
	}
	return s
}

func (s *set) clone() *set {
	c := &set{level: s.level}
	switch s.level {
	case patientLevel:
		c.patients = s.patients.Clone()
	case visitLevel:
		c.visits = s.visits.Clone()
	default:
		c.instances = make(map[inst]struct{}, len(s.instances))
		for k := range s.instances {
			c.instances[k] = struct{}{}
		}
	}
	return c
}

// or adds o (of the same level) to s.
func (s *set) or(o *set) {
	switch s.level {
	case patientLevel:
		s.patients.Or(o.patients)
	case visitLevel:
		s.visits.Or(o.visits)
	default:
		for k := range o.instances {
			s.instances[k] = struct{}{}
		}
	}
}

// and keeps in s what is also in o (of the same level).
func (s *set) and(o *set) {
	switch s.level {
	case patientLevel:
		s.patients.And(o.patients)
	case visitLevel:
		s.visits.And(o.visits)
	default:
		for k := range s.instances {
			if _, ok := o.instances[k]; !ok {
				delete(s.instances, k)
			}
		}
	}
}

// filter keeps (keep) or drops (!keep) the members of s whose projection to o's coarser
// level is in o.
func (s *set) filter(o *set, keep bool) {
	if s.level == o.level {
		if keep {
			s.and(o)
		} else {
			s.andNot(o)
		}
		return
	}
	switch s.level {
	case visitLevel: // o is patients
		out := roaring64.New()
		it := s.visits.Iterator()
		for it.HasNext() {
			k := it.Next()
			if o.patients.Contains(visitPatient(k)) == keep {
				out.Add(k)
			}
		}
		s.visits = out
	case instanceLevel:
		for k := range s.instances {
			var in bool
			if o.level == patientLevel {
				in = o.patients.Contains(uint32(k.patient))
			} else {
				in = o.visits.Contains(visitKey(k.patient, k.enc))
			}
			if in != keep {
				delete(s.instances, k)
			}
		}
	}
}

func (s *set) andNot(o *set) {
	switch s.level {
	case patientLevel:
		s.patients.AndNot(o.patients)
	case visitLevel:
		s.visits.AndNot(o.visits)
	default:
		for k := range o.instances {
			delete(s.instances, k)
		}
	}
}

// toPatients is the patients of the set's members.
func (s *set) toPatients() *roaring.Bitmap {
	switch s.level {
	case patientLevel:
		return s.patients
	case visitLevel:
		b := roaring.New()
		it := s.visits.Iterator()
		for it.HasNext() {
			b.Add(visitPatient(it.Next()))
		}
		return b
	}
	b := roaring.New()
	for k := range s.instances {
		b.Add(uint32(k.patient))
	}
	return b
}

// project is the set at a coarser level.
func (s *set) project(level int) *set {
	if level == s.level {
		return s
	}
	if level == patientLevel {
		return &set{level: patientLevel, patients: s.toPatients()}
	}
	v := newSet(visitLevel)
	for k := range s.instances {
		v.visits.Add(visitKey(k.patient, k.enc))
	}
	return v
}
