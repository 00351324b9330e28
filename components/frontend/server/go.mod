module github.com/ai-infra-matrix/matrix/components/frontend/server

go 1.26
