package controllers

import (
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
)

var (
	// notCreated drops create events of objects the reconciler made itself:
	// it already knows about them. Edits and deletions (drift) still wake it,
	// and at start-up every owner is reconciled anyway.
	notCreated = predicate.Funcs{CreateFunc: func(event.CreateEvent) bool { return false }}

	// createdOrDeleted passes only what changes a count.
	createdOrDeleted = predicate.Funcs{
		UpdateFunc:  func(event.UpdateEvent) bool { return false },
		GenericFunc: func(event.GenericEvent) bool { return false },
	}

	// deleted passes only deletions.
	deleted = predicate.Funcs{
		CreateFunc:  func(event.CreateEvent) bool { return false },
		UpdateFunc:  func(event.UpdateEvent) bool { return false },
		GenericFunc: func(event.GenericEvent) bool { return false },
	}
)
