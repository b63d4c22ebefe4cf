package gitlabapi

import (
	"context"
	"fmt"
	"net/http"

	gitlab "gitlab.com/gitlab-org/api/client-go/v2"
)

func (c *restClient) Job(ctx context.Context, projectID int64, jobID int64) (Job, error) {
	ro, st := start(ctx, http.MethodGet)
	j, _, err := c.gl.Jobs.GetJob(projectID, jobID, ro)
	if err != nil {
		return Job{}, fail(fmt.Sprintf("read job %d of project %d", jobID, projectID), resJob, st, err)
	}
	// The jobs API has no environment field; Environment stays empty.
	return Job{
		ID: j.ID, Name: j.Name, Ref: j.Ref, Tag: j.Tag, Status: j.Status,
		FailureReason: j.FailureReason,
		CreatedAt:     formatTime(j.CreatedAt), StartedAt: formatTime(j.StartedAt), FinishedAt: formatTime(j.FinishedAt),
		PipelineID: j.Pipeline.ID, ProjectID: projectID, WebURL: j.WebURL,
	}, nil
}

func (c *restClient) Pipeline(ctx context.Context, projectID int64, pipelineID int64) (Pipeline, error) {
	ro, st := start(ctx, http.MethodGet)
	p, _, err := c.gl.Pipelines.GetPipeline(projectID, pipelineID, ro)
	if err != nil {
		return Pipeline{}, fail(fmt.Sprintf("read pipeline %d of project %d", pipelineID, projectID), resJob, st, err)
	}
	return Pipeline{ID: p.ID, Ref: p.Ref, Tag: p.Tag, Source: string(p.Source), Status: p.Status, SHA: p.SHA}, nil
}

// JobTrace streams the log through a tail buffer, so a huge log costs at
// most maxBytes of memory (maxBytes <= 0 means 1 MiB).
func (c *restClient) JobTrace(ctx context.Context, projectID int64, jobID int64, maxBytes int64) (string, error) {
	if maxBytes <= 0 {
		maxBytes = 1 << 20
	}
	op := fmt.Sprintf("read the log of job %d of project %d", jobID, projectID)
	ro, st := start(ctx, http.MethodGet)
	req, err := c.gl.NewRequest(http.MethodGet, fmt.Sprintf("projects/%d/jobs/%d/trace", projectID, jobID), nil, []gitlab.RequestOptionFunc{ro})
	if err != nil {
		return "", fmt.Errorf("%s: %w", op, err)
	}
	tail := &tailWriter{max: int(maxBytes)}
	if _, err := c.gl.Do(req, tail); err != nil {
		return "", fail(op, resJob, st, err)
	}
	return string(tail.buf), nil
}

// tailWriter keeps the last max bytes written to it.
type tailWriter struct {
	max int
	buf []byte
}

func (w *tailWriter) Write(p []byte) (int, error) {
	n := len(p)
	if len(p) >= w.max {
		w.buf = append(w.buf[:0], p[len(p)-w.max:]...)
		return n, nil
	}
	if over := len(w.buf) + len(p) - w.max; over > 0 {
		w.buf = append(w.buf[:0], w.buf[over:]...)
	}
	w.buf = append(w.buf, p...)
	return n, nil
}
