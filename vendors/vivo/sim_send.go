package vivo

import (
	"encoding/json"
	"net/http"

	"github.com/herald-push/herald/vendors/simkit"
)

// serveSend answers POST /message/send: one message to one regId.
func (s *Simulator) serveSend(w http.ResponseWriter, r *http.Request) {
	s.rec.Request(vendorName)
	rejected := func() { s.rec.Rejected(vendorName, 1) }
	body, ok := readJSON(w, r)
	if !ok {
		rejected()
		return
	}
	if !s.checkToken(w, r) {
		rejected()
		return
	}
	if !s.gate.AllowRequest() {
		fail(w, codeTooFast, "发送速度过快")
		rejected()
		return
	}
	var m wireMessage
	if err := json.Unmarshal(body, &m); err != nil {
		fail(w, codeParamInvalid, "请求体不是合法的JSON")
		rejected()
		return
	}
	if code, desc := s.validate(&m, true); code != codeOK {
		fail(w, code, desc)
		rejected()
		return
	}
	regID := m.target()
	switch simkit.Script(regID) {
	case simkit.Unavailable:
		serverError(w)
		rejected()
		return
	case simkit.Unregistered:
		reply(w, simAnswer{Result: codeRegIDInvalid, Desc: "regId不合法", InvalidUser: &simInvalid{Status: statusUnknown, UserID: regID}})
		rejected()
		return
	}
	if !s.gate.TakeQuota(1) {
		fail(w, codeDailyTotal, "发送总量超出限制")
		rejected()
		return
	}
	msgID := m.ClientCustomMap["message_id"]
	s.rec.Accepted(vendorName, msgID, regID)
	s.logReceived(Received{
		RegIDs:         []string{regID},
		MessageID:      msgID,
		Category:       m.Category,
		Classification: m.classification(),
		Payload:        json.RawMessage(body),
	})
	taskID := s.newID()
	s.postReceipt(taskID, regID, m.Extra)
	reply(w, simAnswer{Result: codeOK, Desc: "请求成功", TaskID: taskID})
}

// serveSaveList answers POST /message/saveListPayload: it stores the
// message and answers its taskId. No token is involved, so nothing is
// counted.
func (s *Simulator) serveSaveList(w http.ResponseWriter, r *http.Request) {
	body, ok := readJSON(w, r)
	if !ok || !s.checkToken(w, r) {
		return
	}
	var m wireMessage
	if err := json.Unmarshal(body, &m); err != nil {
		fail(w, codeParamInvalid, "请求体不是合法的JSON")
		return
	}
	if code, desc := s.validate(&m, false); code != codeOK {
		fail(w, code, desc)
		return
	}
	id := s.newID()
	s.saveTask(id, savedTask{msg: m, payload: json.RawMessage(body)})
	reply(w, simAnswer{Result: codeOK, Desc: "请求成功", TaskID: id})
}

// servePushToList answers POST /message/pushToList: the saved message to
// 2..1000 regIds, failing tokens listed in invalidUsers.
func (s *Simulator) servePushToList(w http.ResponseWriter, r *http.Request) {
	s.rec.Request(vendorName)
	body, ok := readJSON(w, r)
	if !ok {
		s.rec.Rejected(vendorName, 1)
		return
	}
	var l wireList
	decodeErr := json.Unmarshal(body, &l)
	n := max(1, len(l.RegIDs))
	rejected := func() { s.rec.Rejected(vendorName, n) }
	if !s.checkToken(w, r) {
		rejected()
		return
	}
	if !s.gate.AllowRequest() {
		fail(w, codeTooFast, "发送速度过快")
		rejected()
		return
	}
	if decodeErr != nil {
		fail(w, codeParamInvalid, "请求体不是合法的JSON")
		rejected()
		return
	}
	if code, desc := s.validateList(&l); code != codeOK {
		fail(w, code, desc)
		rejected()
		return
	}
	task, ok := s.task(string(l.TaskID))
	if !ok {
		fail(w, codeTaskIDInvalid, "taskId 不存在")
		rejected()
		return
	}
	valid := make([]string, 0, len(l.RegIDs))
	invalid := []simInvalid{}
	for _, id := range l.RegIDs {
		switch simkit.Script(id) {
		case simkit.Unavailable:
			serverError(w)
			rejected()
			return
		case simkit.Unregistered:
			invalid = append(invalid, simInvalid{Status: statusUnknown, UserID: id})
		default:
			valid = append(valid, id)
		}
	}
	if !s.gate.TakeQuota(len(valid)) {
		fail(w, codeDailyTotal, "发送总量超出限制")
		rejected()
		return
	}
	msgID := task.msg.ClientCustomMap["message_id"]
	for _, id := range valid {
		s.rec.Accepted(vendorName, msgID, id)
	}
	if len(invalid) > 0 {
		s.rec.Rejected(vendorName, len(invalid))
	}
	if len(valid) > 0 {
		s.logReceived(Received{
			RegIDs:         valid,
			MessageID:      msgID,
			Category:       task.msg.Category,
			Classification: task.msg.classification(),
			Payload:        task.payload,
		})
	}
	reply(w, simAnswer{Result: codeOK, Desc: "请求成功", TaskID: string(l.TaskID), InvalidUsers: &invalid})
}

func (s *Simulator) saveTask(id string, t savedTask) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.taskIDs) >= receivedLimit {
		delete(s.tasks, s.taskIDs[0])
		s.taskIDs = s.taskIDs[1:]
	}
	s.tasks[id] = t
	s.taskIDs = append(s.taskIDs, id)
}

func (s *Simulator) task(id string) (savedTask, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tasks[id]
	return t, ok
}
